using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Tools.Training;

/// <summary>What one trainer run is asked to do (the arguments of <c>python3 -m cvtrain train</c>).</summary>
public sealed record TrainerRequest
{
    public required string BaseModel { get; init; }
    public required string Annotations { get; init; }
    public required string Images { get; init; }
    public required string WorkFolder { get; init; }
    public string Format { get; init; } = "coco";
    public string ObjectClass { get; init; } = "head";
    public bool Tiles { get; init; }
    public string? Validation { get; init; }
    public string? ValidationImages { get; init; }
    public int? Epochs { get; init; }
    public double? Minutes { get; init; }
    public int? MaxSteps { get; init; }
    public int? Batch { get; init; }
    public int? Crop { get; init; }
    public int? Threads { get; init; }
    public int? Seed { get; init; }
    public double? LearningRate { get; init; }
    public int? WarmupSteps { get; init; }
    public int? ValidationCrops { get; init; }

    /// <summary>The product's score threshold for the class: with a validation set, the export is calibrated to it.</summary>
    public double? OperatingThreshold { get; init; }
    public bool Fresh { get; init; }

    public IReadOnlyList<string> Arguments()
    {
        var args = new List<string>
        {
            "-m", "cvtrain", "train", "--base", BaseModel, "--data", Annotations, "--images", Images, "--format", Format,
            "--out", WorkFolder, "--class", ObjectClass,
        };
        if (Tiles) args.Add("--tiles");
        if (Validation is not null) args.AddRange(["--val", Validation]);
        if (ValidationImages is not null) args.AddRange(["--val-images", ValidationImages]);
        void Add(string name, object? value)
        {
            if (value is not null) args.AddRange([name, Convert.ToString(value, CultureInfo.InvariantCulture)!]);
        }

        Add("--epochs", Epochs);
        Add("--minutes", Minutes);
        Add("--max-steps", MaxSteps);
        Add("--batch", Batch);
        Add("--crop", Crop);
        Add("--threads", Threads);
        Add("--seed", Seed);
        Add("--lr", LearningRate);
        Add("--warmup-steps", WarmupSteps);
        Add("--val-crops", ValidationCrops);
        Add("--operating-threshold", OperatingThreshold);
        if (Fresh) args.Add("--fresh");
        return args;
    }
}

/// <summary>
/// Runs the PyTorch trainer (<c>training-data-tools/trainer</c>, package <c>cvtrain</c>) as a child process with
/// Debian's Python: its progress lines are streamed as they come, Ctrl-C (SIGINT/SIGTERM) is forwarded so it saves a
/// checkpoint and stops, and a run that overstays its time limit is stopped the same way (then killed).
/// </summary>
public sealed class PythonTrainer
{
    /// <summary>Exit code of a run stopped by a signal with its checkpoint saved (as the trainer returns it).</summary>
    public const int Interrupted = 130;

    public const string PythonVariable = "CINEMAVISION_PYTHON";

    private static readonly string[] Modules = ["torch", "torchvision", "onnx", "numpy", "PIL"];

    public PythonTrainer(string python, string packageRoot)
    {
        Python = python;
        PackageRoot = packageRoot;
    }

    /// <summary>The interpreter: CINEMAVISION_PYTHON, else <c>/usr/bin/python3</c> (Debian's, which sees python3-torch), else <c>python3</c>.</summary>
    public string Python { get; }

    /// <summary>The folder holding the <c>cvtrain</c> package.</summary>
    public string PackageRoot { get; }

    /// <summary>Time given after <c>--minutes</c> for validation, the export and the checkpoint before the run is stopped.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(10);

    public static PythonTrainer Locate()
    {
        var python = Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } p ? p
            : File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        // The repository's sources when running from a checkout (never a stale copy), else the copy shipped beside cvtools.
        string[] candidates =
        [
            AssetLocator.RepositoryRoot is { } repo ? Path.Combine(repo, "training-data-tools", "trainer") : "",
            Path.Combine(AppContext.BaseDirectory, "trainer"),
        ];
        var root = candidates.FirstOrDefault(c => c.Length > 0 && File.Exists(Path.Combine(c, "cvtrain", "__main__.py")))
            ?? throw new FileNotFoundException($"The trainer package (cvtrain) is in neither {string.Join(" nor ", candidates.Where(c => c.Length > 0))}.");
        return new PythonTrainer(python, root);
    }

    /// <summary>Checks that the interpreter runs and has the training packages; the message says how to install them.</summary>
    public void CheckPackages()
    {
        var script = $"import importlib.util, sys; missing = [m for m in {PythonList(Modules)} if importlib.util.find_spec(m) is None]; print(','.join(missing)); sys.exit(1 if missing else 0)";
        var (exit, output) = RunQuiet(["-c", script], TimeSpan.FromMinutes(1));
        if (exit == 0) return;
        var missing = output.Trim();
        throw new InvalidOperationException(
            $"{Python} cannot train: {(missing.Length > 0 ? $"missing Python module(s) {missing}" : output.Trim())}. " +
            "Install Debian's python3-torch python3-torchvision python3-onnx python3-numpy python3-pil " +
            $"(./scripts/setup --with-training), or point {PythonVariable} at a Python that has them.");
    }

    /// <summary>Runs the trainer; every line it prints goes to <paramref name="onLine"/>. Returns its exit code.</summary>
    public async Task<int> RunAsync(TrainerRequest request, Action<string> onLine, CancellationToken stop = default)
    {
        var start = StartInfo(request.Arguments());
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {Python}");
        long askedAt = 0; // Stopwatch timestamp of the first stop request
        void Forward(string why)
        {
            if (process.HasExited) return;
            onLine($"cvtools: {why}: asking the trainer to save a checkpoint and stop");
            Interlocked.CompareExchange(ref askedAt, Stopwatch.GetTimestamp(), 0);
            SendInterrupt(process.Id);
        }

        // Signals are forwarded (SIGINT: the trainer saves and stops); this process waits for it instead of dying.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; Forward("interrupted"); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; Forward("terminated"); });
        using var stopRegistration = stop.Register(() => Forward("stopped"));
        using var deadline = request.Minutes is { } minutes
            ? new Timer(_ => Forward($"the run overstayed its {minutes} minutes"), null, TimeSpan.FromMinutes(minutes) + Grace, Timeout.InfiniteTimeSpan)
            : null;

        var pump = Task.WhenAll(Pump(process.StandardOutput, onLine), Pump(process.StandardError, onLine));
        var exited = process.WaitForExitAsync(CancellationToken.None);
        bool killed = false;
        while (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false) != exited)
        {
            // A trainer that ignores the request (stuck in I/O) is killed two minutes after it was asked to stop.
            long asked = Interlocked.Read(ref askedAt);
            if (!killed && asked != 0 && Stopwatch.GetElapsedTime(asked) > TimeSpan.FromMinutes(2) && !process.HasExited)
            {
                killed = true;
                onLine("cvtools: the trainer did not stop; killing it");
                process.Kill(entireProcessTree: true);
            }
        }

        await pump.ConfigureAwait(false);
        return process.ExitCode;
    }

    /// <summary>Runs the interpreter with <paramref name="args"/> (e.g. <c>-m cvtrain infer ...</c>) to completion; returns its exit code and output.</summary>
    public (int Exit, string Output) RunQuiet(IReadOnlyList<string> args, TimeSpan timeout)
    {
        using var process = Process.Start(StartInfo(args)) ?? throw new InvalidOperationException($"cannot start {Python}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} {string.Join(' ', args)} did not finish within {timeout}.");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult());
    }

    private ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = PackageRoot,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        var path = Environment.GetEnvironmentVariable("PYTHONPATH");
        start.Environment["PYTHONPATH"] = string.IsNullOrEmpty(path) ? PackageRoot : PackageRoot + Path.PathSeparator + path;
        start.Environment["PYTHONUNBUFFERED"] = "1";
        start.Environment["CVTRAIN_PARENT_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return start;
    }

    private static async Task Pump(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line) onLine(line);
    }

    private static void SendInterrupt(int pid)
    {
        // The runtime has no API to signal another process short of killing it; kill(1) sends SIGINT.
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-INT", pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
        kill?.WaitForExit();
    }

    private static string PythonList(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(i => $"'{i}'")) + "]";
}
