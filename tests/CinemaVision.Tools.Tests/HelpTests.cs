using System.CommandLine;
using CinemaVision.Tools.Commands;
using CinemaVision.Tools.Tests.Infrastructure;

namespace CinemaVision.Tools.Tests;

/// <summary>Every command explains itself with examples that name the command itself.</summary>
[Collection("Console")]
public sealed class HelpTests
{
    public static TheoryData<string> Leaves()
    {
        var data = new TheoryData<string>();
        void Walk(Command c, string path)
        {
            if (c.Subcommands.Count == 0) data.Add(path.Trim());
            foreach (var s in c.Subcommands) Walk(s, path + " " + s.Name);
        }

        Walk(CommandTree.Build(), "");
        return data;
    }

    [Theory]
    [MemberData(nameof(Leaves))]
    public async Task Help_EveryCommand_HasExamplesOfItself(string command)
    {
        var (exit, output, _) = await Cli.RunAsync([.. command.Split(' '), "--help"]);
        Assert.Equal(0, exit);
        Assert.Contains("Examples:", output, StringComparison.Ordinal);
        Assert.Contains("cvtools " + command, output, StringComparison.Ordinal);
    }
}
