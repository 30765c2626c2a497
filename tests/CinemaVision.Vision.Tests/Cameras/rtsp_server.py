#!/usr/bin/python3
"""A test RTSP server on 127.0.0.1: serves an H.264 MP4 file (looped) or a test pattern at rtsp://127.0.0.1:PORT/stream.
Usage: rtsp_server.py PORT [FILE.mp4]. Prints "ready" when it is listening."""
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib

Gst.init(None)
port = sys.argv[1]
source = sys.argv[2] if len(sys.argv) > 2 else None
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
if source:
    launch = f"( multifilesrc location={source} loop=true ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
else:
    launch = "( videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=10/1 ! x264enc tune=zerolatency speed-preset=ultrafast ! rtph264pay name=pay0 pt=96 config-interval=1 )"
factory.set_launch(launch)
factory.set_shared(True)
server.get_mount_points().add_factory("/stream", factory)
if server.attach(None) == 0:
    print("cannot listen", flush=True)
    sys.exit(1)
print("ready", flush=True)
GLib.MainLoop().run()
