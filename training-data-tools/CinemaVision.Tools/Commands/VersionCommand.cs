using System.CommandLine;
using System.Reflection;

namespace CinemaVision.Tools.Commands;

internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the cvtools version.\n\nExamples:\n  cvtools version");
        command.SetAction(_ =>
        {
            Console.WriteLine(typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
            return 0;
        });
        return command;
    }
}
