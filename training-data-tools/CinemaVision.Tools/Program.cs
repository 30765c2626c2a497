using System.CommandLine;
using CinemaVision.Tools.Commands;
using CinemaVision.Vision.Models;

// cvtools: each command lives in Commands/<Name>Command.cs and is registered here.
var root = new RootCommand("CinemaVision command line for installers and data teams.");
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(DetectCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(OccupancyCommand.Create());
root.Subcommands.Add(TrackCommand.Create());
root.Subcommands.Add(ProbeCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(SliceCommand.Create());
root.Subcommands.Add(TrainCommand.Create());

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
}
catch (Exception ex) when (ex is ModelAssetException or ArgumentException or FormatException or FileNotFoundException or InvalidDataException or IOException)
{
    // Bad input gets one line that names the problem, not a stack trace.
    Console.Error.WriteLine($"cvtools: {ex.Message}");
    return 2;
}
