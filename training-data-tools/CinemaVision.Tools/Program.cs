using System.CommandLine;
using CinemaVision.Tools.Commands;

// cvtools: each command lives in Commands/<Name>Command.cs and is registered here.
var root = new RootCommand("CinemaVision command line for installers and data teams.");
root.Subcommands.Add(VersionCommand.Create());

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
