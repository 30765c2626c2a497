using CinemaVision.Edge.Configuration;

namespace CinemaVision.Edge.Tests;

public sealed class AgentOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-agentcfg-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Key(UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite, string text = "cvk_test")
    {
        var path = Path.Combine(_dir, "agent.key");
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void ValidFile_Read_RelativePathsFromTheFilesFolder()
    {
        Key();
        var (options, problems) = AgentOptions.Parse("""
            { "centralUrl": "http://10.0.0.2:8080", "agentId": "edge-1", "keyFile": "agent.key", "dataDirectory": "data", "cpuBudget": 1.5,
              "listen": "127.0.0.1:9399", "outbox": { "maxMegabytes": 64 },
              "cameras": [ { "id": "cam-1", "auditoriumId": "aud-1", "url": "rtsp://cam/main", "substreamUrl": "rtsp://cam/sub" } ] }
            """, _dir);

        Assert.Empty(problems);
        Assert.Equal("cvk_test", options!.ApiKey);
        Assert.Equal(Path.Combine(_dir, "data"), options.DataDirectory);
        Assert.Equal(64L * 1024 * 1024, options.Outbox.MaxBytes);
        Assert.True(options.Cameras[0].MainKeyframesOnly);
    }

    [Fact]
    public void BadFile_EveryProblemNamedAtOnce()
    {
        Key(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var (options, problems) = AgentOptions.Parse("""
            { "centralUrl": "ftp://nowhere", "keyFile": "agent.key", "dataDirectory": "data", "cpuBudget": -1, "colour": "blue",
              "cameras": [ { "id": "cam 1", "auditoriumId": "aud-1", "url": "rtsp://" }, { "auditoriumId": "aud-1", "url": "missing.mp4", "keyframesOnly": "sometimes" } ] }
            """, _dir);

        Assert.Null(options);
        var paths = problems.Select(p => p.Path).ToHashSet();
        foreach (var expected in new[] { "centralUrl", "agentId", "keyFile", "cpuBudget", "colour", "cameras[0].id", "cameras[0].url", "cameras[1].id", "cameras[1].url", "cameras[1].keyframesOnly" })
        {
            Assert.Contains(expected, paths);
        }

        Assert.Contains(problems, p => p.Path == "keyFile" && p.Message.Contains("chmod 600", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "cameras[1].url" && p.Message.Contains("does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void NotJson_LineAndPosition()
    {
        var (_, problems) = AgentOptions.Parse("{ \"agentId\": ", _dir);
        Assert.Contains("line 1", Assert.Single(problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CentralCertificateSha256_ReadAsLowerHex_ColonsAllowed_CheckedAgainstTheUrl()
    {
        Key();
        var pin = string.Concat(Enumerable.Repeat("AB", 32));
        var withColons = string.Join(":", Enumerable.Repeat("AB", 32));
        const string Camera = """ "cameras": [ { "id": "cam-1", "auditoriumId": "aud-1", "url": "rtsp://cam/main" } ] """;

        var (options, problems) = AgentOptions.Parse($$"""{ "centralUrl": "https://10.0.0.2:8443", "centralCertificateSha256": "{{withColons}}", "agentId": "e", "keyFile": "agent.key", "dataDirectory": "data", {{Camera}} }""", _dir);
        Assert.Empty(problems);
        Assert.Equal(pin.ToLowerInvariant(), options!.CentralCertificateSha256);

        (_, problems) = AgentOptions.Parse($$"""{ "centralUrl": "https://10.0.0.2:8443", "centralCertificateSha256": "abc", "agentId": "e", "keyFile": "agent.key", "dataDirectory": "data", {{Camera}} }""", _dir);
        Assert.Contains("64 hex digits", Assert.Single(problems, p => p.Path == "centralCertificateSha256").Message, StringComparison.Ordinal);

        (_, problems) = AgentOptions.Parse($$"""{ "centralUrl": "http://10.0.0.2:8080", "centralCertificateSha256": "{{pin}}", "agentId": "e", "keyFile": "agent.key", "dataDirectory": "data", {{Camera}} }""", _dir);
        Assert.Contains("not https", Assert.Single(problems, p => p.Path == "centralCertificateSha256").Message, StringComparison.Ordinal);
    }
}
