using CinemaVision.Server.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddCinemaVisionServer();

var app = builder.Build();
app.MapCinemaVisionServer();
app.Run();

public partial class Program;
