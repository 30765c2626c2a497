using CinemaVision.Server.Extensions;
using CinemaVision.Server.Operations;

// Operations commands (backup, restore) run and exit; anything else starts the service.
if (BackupCommand.TryRun(args, Console.Out, Console.Error) is { } exitCode)
{
    return exitCode;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddCinemaVisionServer();

var app = builder.Build();
app.MapCinemaVisionServer();
app.Run();
return 0;

public partial class Program;
