using System.Text.RegularExpressions;
using CinemaVision.Core.Events;
using CinemaVision.Server.Storage.TimeSeries;
using CinemaVision.Server.Tests.Dashboards;

namespace CinemaVision.Server.Tests.Deployment;

/// <summary>
/// The operators' guide (<c>docs/guide/{en,zh-CN}</c>) keeps up with the product: the same pages in both languages,
/// links that lead somewhere, every camera-health kind, anomaly kind, recording device and forwarder state explained,
/// so adding one to the code without telling operators what it means and what to do fails here.
/// </summary>
public sealed partial class GuideTests
{
    private static readonly string Guide = Path.Combine(Path.GetDirectoryName(DashboardQueries.DashboardsFolder())!, "docs", "guide");
    private static readonly string[] Languages = ["en", "zh-CN"];

    private static string Page(string language, string name) => File.ReadAllText(Path.Combine(Guide, language, name));

    [Fact]
    public void Guide_SamePagesInEveryLanguage()
    {
        var en = Directory.GetFiles(Path.Combine(Guide, "en"), "*.md").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var zh = Directory.GetFiles(Path.Combine(Guide, "zh-CN"), "*.md").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.Contains("index.md", en);
        Assert.Equal(en, zh);
    }

    [Fact]
    public void Guide_ChinesePagesAreWrittenInChinese()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Guide, "zh-CN"), "*.md"))
        {
            var prose = CodeBlock().Replace(File.ReadAllText(file), "");
            prose = InlineCode().Replace(prose, "");
            var letters = prose.Count(char.IsLetter);
            var chinese = prose.Count(c => c is >= '\u4e00' and <= '\u9fff');
            Assert.True(chinese > letters * 0.4, $"{Path.GetFileName(file)}: only {chinese} of {letters} letters outside code are Chinese");
        }
    }

    [Fact]
    public void Guide_EveryRelativeLinkLeadsToAFile()
    {
        foreach (var language in Languages)
        {
            foreach (var file in Directory.GetFiles(Path.Combine(Guide, language), "*.md"))
            {
                foreach (Match link in MarkdownLink().Matches(File.ReadAllText(file)))
                {
                    var target = link.Groups["target"].Value.Split('#')[0];
                    if (target.Length == 0 || target.Contains("://", StringComparison.Ordinal)) continue;
                    var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target));
                    Assert.True(File.Exists(path) || Directory.Exists(path), $"{language}/{Path.GetFileName(file)}: link {link.Value} leads nowhere");
                }
            }
        }
    }

    public static TheoryData<string> EveryLanguage() => new(Languages);

    [Theory]
    [MemberData(nameof(EveryLanguage))]
    public void Troubleshooting_ExplainsEveryCameraHealthKindAndForwarderState(string language)
    {
        var page = Page(language, "troubleshooting.md");
        foreach (var name in Enum.GetNames<CameraHealthKind>().Concat(Enum.GetNames<ForwarderState>()))
        {
            Assert.True(page.Contains($"`{name}`", StringComparison.Ordinal), $"{language}/troubleshooting.md does not explain `{name}`");
        }

        foreach (var field in new[] { "outboxPending", "uploadLagSeconds", "droppedSamples", "cpuPercent" })
        {
            Assert.Contains($"`{field}`", page, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(EveryLanguage))]
    public void Alerts_NamesEveryIncidentKind(string language)
    {
        var page = Page(language, "alerts.md");
        foreach (var name in Enum.GetNames<AnomalyKind>().Concat(Enum.GetNames<RecordingDevice>()).Concat(Enum.GetNames<CameraHealthKind>()))
        {
            Assert.True(page.Contains($"`{name}`", StringComparison.Ordinal), $"{language}/alerts.md does not name `{name}`");
        }
    }

    [GeneratedRegex(@"```.*?```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\[[^\]]*\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();
}
