using System.CommandLine;
using CinemaVision.Tools.Commands;
using CinemaVision.Vision.Models;

// cvtools: each command lives in Commands/<Name>Command.cs and is registered in Commands/CommandTree.cs.
var root = CommandTree.Build();

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
