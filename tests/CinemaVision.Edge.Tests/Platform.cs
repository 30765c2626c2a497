// The agent and its tests run on Linux (ffmpeg children, /proc, Unix file modes for the key file).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
