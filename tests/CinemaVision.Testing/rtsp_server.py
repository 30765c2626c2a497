#!/usr/bin/python3
"""A test RTSP server on 127.0.0.1: serves H.264 MP4 files (looped, in real time) or a test pattern.
Usage: rtsp_server.py PORT [FILE.mp4]            serves rtsp://127.0.0.1:PORT/stream
       rtsp_server.py PORT MOUNT=FILE.mp4 ...    serves rtsp://127.0.0.1:PORT/MOUNT for each (e.g. cam1/main=main.mp4)
Prints "ready" when it is listening."""
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib

Gst.init(None)
port = sys.argv[1]
args = sys.argv[2:]
mounts = {}
if len(args) == 1 and "=" not in args[0]:
    mounts["stream"] = args[0]
elif not args:
    mounts["stream"] = None
else:
    for a in args:
        mount, _, path = a.partition("=")
        mounts[mount.strip("/")] = path
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
for mount, source in mounts.items():
    factory = GstRtspServer.RTSPMediaFactory()
    if source:
        launch = f"( multifilesrc location={source} loop=true ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    else:
        launch = "( videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=10/1 ! x264enc tune=zerolatency speed-preset=ultrafast ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    factory.set_launch(launch)
    factory.set_shared(True)
    server.get_mount_points().add_factory("/" + mount, factory)
if server.attach(None) == 0:
    print("cannot listen", flush=True)
    sys.exit(1)
print("ready", flush=True)
GLib.MainLoop().run()
