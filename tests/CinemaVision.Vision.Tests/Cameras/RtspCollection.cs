using CinemaVision.Testing;

namespace CinemaVision.Vision.Tests.Cameras;

/// <summary>The camera tests share one real RTSP server (<see cref="RtspServerFixture"/>).</summary>
[CollectionDefinition("rtsp")]
public sealed class RtspCollection : ICollectionFixture<RtspServerFixture>;
