using Spectre.Console;

namespace CinemaVision.Tools.Commands;

/// <summary>
/// Console output of the commands: Spectre.Console tables and progress bars on a terminal, plain lines when the
/// output is redirected (CI logs, tests), always on the current <see cref="Console.Out"/>.
/// </summary>
internal static class Ui
{
    public static IAnsiConsole Create() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Out),
        Interactive = Console.IsOutputRedirected ? InteractionSupport.No : InteractionSupport.Detect,
        Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
        ColorSystem = Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
    });

    /// <summary>
    /// Runs a command's body; bad input (a malformed file, a wrong option, a missing file or model) becomes one line
    /// on stderr naming the problem and exit code 2, never a stack trace.
    /// </summary>
    public static int Guard(string command, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException or Vision.Models.ModelAssetException or HttpRequestException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"cvtools {command}: {ex.Message}");
            return 2;
        }
    }

    /// <summary>Runs <paramref name="work"/> with a progress bar on a terminal; otherwise reports every 10 %.</summary>
    public static T Progress<T>(IAnsiConsole console, string title, Func<IProgress<(int Done, int Total)>, T> work)
    {
        if (console.Profile.Capabilities.Interactive)
        {
            return console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(title), maxValue: 1);
                    return work(new Progress<(int Done, int Total)>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                    }));
                });
        }

        int lastTenth = -1;
        return work(new SynchronousProgress<(int Done, int Total)>(p =>
        {
            int tenth = p.Total == 0 ? 10 : p.Done * 10 / p.Total;
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            console.WriteLine(FormattableString.Invariant($"{title}: {p.Done}/{p.Total}"));
        }));
    }

    /// <summary>A table with the given column headers (right-aligned numbers after the first column).</summary>
    public static Table Table(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Simple);
        for (int i = 0; i < headers.Length; i++)
        {
            var column = new TableColumn(Markup.Escape(headers[i]));
            if (i > 0) column.RightAligned();
            table.AddColumn(column);
        }

        return table;
    }

    public static void Row(this Table table, params object[] cells) =>
        table.AddRow(cells.Select(c => Markup.Escape(Convert.ToString(c, System.Globalization.CultureInfo.InvariantCulture) ?? "")).ToArray());

    /// <summary>IProgress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, losing order).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
