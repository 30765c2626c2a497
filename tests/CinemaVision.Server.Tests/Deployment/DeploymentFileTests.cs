using System.Diagnostics;
using System.Text.RegularExpressions;
using CinemaVision.Server.Tests.Dashboards;
using YamlDotNet.RepresentationModel;

namespace CinemaVision.Server.Tests.Deployment;

/// <summary>
/// What an operator relies on in <c>compose.yaml</c> and the systemd units under <c>deploy/systemd</c>: images pinned,
/// health checked, secrets never defaulted, every piece of state in a named volume, the services confined. Both files
/// are also handed to their own tools (<c>docker-compose config -q</c> offline, <c>systemd-analyze verify</c>), which
/// <c>scripts/setup</c> installs with the test packages.
/// </summary>
public sealed partial class DeploymentFileTests
{
    private static readonly string Root = Path.GetDirectoryName(DashboardQueries.DashboardsFolder())!;
    private static readonly string ComposePath = Path.Combine(Root, "compose.yaml");

    /// <summary>Every secret compose asks for; each must be refused when missing.</summary>
    private static readonly string[] Secrets = ["CINEMAVISION_ADMIN_PASSWORD", "INFLUXDB_ADMIN_PASSWORD", "INFLUXDB_GRAFANA_PASSWORD", "GRAFANA_ADMIN_PASSWORD"];

    private static YamlMappingNode Services()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(ComposePath))
        {
            yaml.Load(reader);
        }

        return (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
    }

    private static YamlMappingNode TopLevel()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(ComposePath);
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static IEnumerable<(string Name, YamlMappingNode Service)> EachService() =>
        Services().Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, (YamlMappingNode)kv.Value));

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode s ? s.Value : null;

    [Fact]
    public void Compose_EveryServiceHasAnImagePinnedByTag_BuiltImagesToo()
    {
        foreach (var (name, service) in EachService())
        {
            var image = Scalar(service, "image");
            Assert.True(image is not null, $"service {name} has no image: (a built image needs one too, with a tag)");
            var lastPart = image![(image.LastIndexOf('/') + 1)..];
            Assert.True(lastPart.Contains(':', StringComparison.Ordinal), $"service {name}: image {image} has no tag");
            var tag = lastPart[(lastPart.IndexOf(':', StringComparison.Ordinal) + 1)..];
            Assert.False(tag is "" or "latest" || tag.Contains("latest", StringComparison.OrdinalIgnoreCase), $"service {name}: image {image} is not pinned");
            Assert.Matches(VersionTag(), tag);
        }
    }

    [Fact]
    public void Compose_EveryServiceHasAHealthCheck()
    {
        foreach (var (name, service) in EachService())
        {
            Assert.True(service.Children.TryGetValue(new YamlScalarNode("healthcheck"), out var check), $"service {name} has no healthcheck");
            var mapping = (YamlMappingNode)check;
            Assert.NotEqual("true", Scalar(mapping, "disable"));
            var test = Assert.IsType<YamlSequenceNode>(mapping["test"]);
            Assert.True(test.Children.Count >= 2 && ((YamlScalarNode)test.Children[0]).Value is "CMD" or "CMD-SHELL", $"service {name}: healthcheck test must run a command");
        }
    }

    [Fact]
    public void Compose_NoDefaultSecrets_EveryVariableIsRequiredAndEverySecretComesFromOne()
    {
        var text = File.ReadAllText(ComposePath);
        foreach (Match m in Interpolation().Matches(text))
        {
            Assert.True(m.Groups["required"].Success, $"compose.yaml: {m.Value} has a default or no ':?' message: every variable must be required");
        }

        foreach (var (name, service) in EachService())
        {
            if (!service.Children.TryGetValue(new YamlScalarNode("environment"), out var env)) continue;
            foreach (var (key, value) in ((YamlMappingNode)env).Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, ((YamlScalarNode)kv.Value).Value ?? "")))
            {
                if (SecretName().IsMatch(key))
                {
                    Assert.True(RequiredOnly().IsMatch(value), $"service {name}: {key} must come from a required variable (${{NAME:?message}}), not '{value}'");
                }
            }
        }
    }

    [Fact]
    public void Compose_EveryPieceOfStateInANamedVolume_IncludingEachImagesDeclaredVolumes()
    {
        var declared = ((YamlMappingNode)TopLevel()["volumes"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet(StringComparer.Ordinal);
        var state = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["influxdb"] = "/var/lib/influxdb",
            ["server"] = "/data",
            ["grafana"] = "/var/lib/grafana",
            ["agent"] = "/var/lib/cinemavision",
            ["cvtools"] = "/assets",
        };
        foreach (var (name, service) in EachService())
        {
            var mounts = service.Children.TryGetValue(new YamlScalarNode("volumes"), out var v)
                ? ((YamlSequenceNode)v).Children.Select(c => ((YamlScalarNode)c).Value!.Split(':')).ToList()
                : [];
            var named = mounts.Where(p => !p[0].StartsWith('.') && !p[0].StartsWith('/')).ToList();
            Assert.All(named, p => Assert.Contains(p[0], declared));
            var needed = new List<string>();
            if (state.TryGetValue(name, out var path)) needed.Add(path);
            if (service.Children.TryGetValue(new YamlScalarNode("build"), out var build))
            {
                var dockerfile = Path.Combine(Root, Scalar((YamlMappingNode)build, "dockerfile")!);
                Assert.True(File.Exists(dockerfile), $"service {name}: {dockerfile} does not exist");
                needed.AddRange(File.ReadLines(dockerfile).Where(l => l.StartsWith("VOLUME ", StringComparison.Ordinal)).SelectMany(l => l[7..].Split(' ', StringSplitOptions.RemoveEmptyEntries)));
            }

            foreach (var p in needed)
            {
                Assert.True(named.Any(m => m.Length > 1 && m[1] == p), $"service {name}: its state at {p} is not in a named volume");
            }
        }

        Assert.True(EachService().Any(s => s.Name == "agent" && Scalar((YamlMappingNode)s.Service["build"], "dockerfile") == "src/CinemaVision.Edge/Dockerfile"), "compose.yaml has no edge agent service built from src/CinemaVision.Edge/Dockerfile");
    }

    [Fact]
    public async Task Compose_ValidatesOffline_AndRefusesEachMissingSecretByName()
    {
        var all = Secrets.Append("CINEMAVISION_VERSION").ToDictionary(s => s, s => s == "CINEMAVISION_VERSION" ? "0.1.0" : "a-long-test-secret-" + s.ToLowerInvariant());

        var ok = await RunAsync(DockerCompose(), ["-f", ComposePath, "--profile", "edge", "--profile", "tools", "config", "-q"], all);
        Assert.True(ok.ExitCode == 0, $"docker-compose config -q failed: {ok.Output}");

        foreach (var secret in Secrets)
        {
            var without = all.Where(kv => kv.Key != secret).ToDictionary();
            var refused = await RunAsync(DockerCompose(), ["-f", ComposePath, "config", "-q"], without, unset: secret);
            Assert.True(refused.ExitCode != 0, $"compose accepted a missing {secret}");
            Assert.Contains(secret, refused.Output, StringComparison.Ordinal);
        }
    }

    private static readonly string[] UnitFiles = ["cinemavision-server.service", "cinemavision-agent.service"];

    public static TheoryData<string> Units() => new(UnitFiles);

    [Theory]
    [MemberData(nameof(Units))]
    public void Unit_RunsConfinedAsItsOwnUser_WritesOnlyItsStateFolder_SecretsOutOfTheUnit(string file)
    {
        var service = Section(Path.Combine(Root, "deploy", "systemd", file), "Service");
        string One(string key) => Assert.Single(service[key]);

        Assert.True(service.ContainsKey("User") || (service.TryGetValue("DynamicUser", out var dyn) && dyn.Single() == "yes"), $"{file}: no dedicated user (User= or DynamicUser=yes)");
        if (service.TryGetValue("User", out var user)) Assert.NotEqual("root", user.Single());
        Assert.Equal("yes", One("NoNewPrivileges"));
        Assert.Equal("strict", One("ProtectSystem"));
        Assert.Contains(One("ProtectHome"), new[] { "yes", "read-only", "tmpfs" });
        Assert.Equal("yes", One("PrivateTmp"));
        Assert.Equal(string.Empty, One("CapabilityBoundingSet"));
        Assert.Equal(string.Empty, One("AmbientCapabilities"));
        Assert.Equal("native", One("SystemCallArchitectures"));

        // The only writable path is the state folder systemd creates for the service's user.
        var state = "/var/lib/" + One("StateDirectory");
        Assert.Equal([state], service["ReadWritePaths"].SelectMany(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        Assert.All(service.GetValueOrDefault("Environment", []).Where(e => e.Contains("DATA_DIR", StringComparison.Ordinal) || e.Contains("ASSET_CACHE", StringComparison.Ordinal)), e => Assert.StartsWith(state, e[(e.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparison.Ordinal));
        Assert.DoesNotContain(service.GetValueOrDefault("Environment", []), e => SecretName().IsMatch(e.Split('=')[0]));
        if (file.Contains("server", StringComparison.Ordinal))
        {
            Assert.StartsWith("/etc/cinemavision/", One("EnvironmentFile"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Units_VerifiedBySystemdAnalyze_NoWarnings()
    {
        var folder = Directory.CreateTempSubdirectory("cv-units-").FullName;
        try
        {
            // systemd-analyze checks that ExecStart's program exists: point it at this machine's dotnet when it is not at /usr/bin.
            var dotnet = File.Exists("/usr/bin/dotnet") ? "/usr/bin/dotnet" : Environment.ProcessPath!;
            var units = new List<string>();
            foreach (var file in UnitFiles)
            {
                var copy = Path.Combine(folder, file);
                await File.WriteAllTextAsync(copy, (await File.ReadAllTextAsync(Path.Combine(Root, "deploy", "systemd", file))).Replace("/usr/bin/dotnet", dotnet, StringComparison.Ordinal));
                units.Add(copy);
            }

            var analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("systemd-analyze was not found: install the Debian package 'systemd' (scripts/setup --with-test-deps does).");
            var result = await RunAsync(analyze, ["verify", .. units], new Dictionary<string, string>());

            Assert.True(result.ExitCode == 0, $"systemd-analyze verify failed: {result.Output}");
            var ours = result.Output.Split('\n').Where(l => units.Any(u => l.Contains(Path.GetFileName(u), StringComparison.Ordinal))).ToList();
            Assert.True(ours.Count == 0, "systemd-analyze warned:\n" + string.Join('\n', ours));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The keys of one section of a unit file, each with its values in order (a key may repeat).</summary>
    private static Dictionary<string, List<string>> Section(string path, string name)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var current = "";
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line.StartsWith('['))
            {
                current = line.Trim('[', ']');
                continue;
            }

            if (current != name) continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var key = line[..eq].Trim();
            if (!result.TryGetValue(key, out var values)) result[key] = values = [];
            values.Add(line[(eq + 1)..].Trim().TrimStart('-'));
        }

        return result;
    }

    private static string DockerCompose() =>
        new[] { "/usr/bin/docker-compose", "/usr/local/bin/docker-compose" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("docker-compose was not found: install the Debian package 'docker-compose' (scripts/setup --with-test-deps does).");

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> env, string? unset = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Root };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var name in Secrets.Append("CINEMAVISION_VERSION")) start.Environment.Remove(name);
        foreach (var (k, v) in env) start.Environment[k] = v;
        if (unset is not null) start.Environment.Remove(unset);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^\d+(\.\d+)*([-.][A-Za-z0-9.]+)?$|^\$\{[A-Z_]+:\?[^}]+\}$")]
    private static partial Regex VersionTag();

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<required>:\?[^}]+)?[^}]*\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@"PASSWORD|SECRET|TOKEN|APIKEY|API_KEY", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$")]
    private static partial Regex RequiredOnly();
}
