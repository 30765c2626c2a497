using System.CommandLine;
using CinemaVision.Tools.Commands;

// cvtools: each command lives in Commands/<Name>Command.cs and is registered here.
var root = new RootCommand("CinemaVision command line for installers and data teams.");
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(DetectCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(BenchCommand.Create());

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
