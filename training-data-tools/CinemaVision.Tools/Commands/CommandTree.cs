using System.CommandLine;

namespace CinemaVision.Tools.Commands;

/// <summary>Every cvtools command, registered once (Program.cs runs it; tests walk it).</summary>
internal static class CommandTree
{
    public static RootCommand Build()
    {
        var root = new RootCommand("CinemaVision command line for installers and data teams.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(DetectCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(OccupancyCommand.Create());
        root.Subcommands.Add(CalibrateCommand.Create());
        root.Subcommands.Add(TrackCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(SliceCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        return root;
    }
}
