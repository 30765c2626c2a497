using System.Diagnostics;
using System.Text.Json;
using CinemaVision.Core.Models;
using CinemaVision.Tools.Commands;
using CinemaVision.Tools.Tests.Infrastructure;
using CinemaVision.Vision.Models;
using Xunit.Abstractions;

namespace CinemaVision.Tools.Tests.Training;

/// <summary>
/// <c>cvtools train</c> end to end on real classroom frames, with a registry in a temporary folder: slice, train (a few
/// steps), check in ONNX Runtime, register with a card, measure, and find the model by name in <c>cvtools eval</c>.
/// </summary>
[Collection("Console")]
public sealed class TrainCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-train-").FullName;
    private readonly string? _oldRegistry = Environment.GetEnvironmentVariable(ModelRegistry.Variable);

    private string Registry => Path.Combine(_dir, "registry");

    [Fact]
    public async Task Train_OnClassroomFrames_RegistersAGatedModelWithACardNamingItsData_ThatEvalFindsByName()
    {
        Environment.SetEnvironmentVariable(ModelRegistry.Variable, Registry);
        var (train, val) = Split();
        var (exit, stdout, stderr) = await Cli.RunAsync(
            "train", "--data", train, "--images", RealData.ClassroomImages, "--base", "lffd_head", "--name", "hall_test",
            "--val", val, "--max-steps", "3", "--batch", "4", "--crop", "128", "--sizes", "320,640", "--eval-frames", "1",
            "--data-terms", "research-only", "--work", Path.Combine(_dir, "work"));
        output.WriteLine(stdout + stderr);
        // Three steps may or may not beat the base model: promoted-on-figures (0) or refused by the gate (3), never a failure.
        Assert.True(exit is 0 or ModelsImportCommand.Refused, stderr + stdout);
        Assert.Contains("loads in ONNX Runtime", stdout, StringComparison.Ordinal);
        Assert.Contains("registered: hall_test:", stdout, StringComparison.Ordinal);

        var model = new ModelRegistry(Registry).Current("hall_test")!;
        Assert.Equal("lffd", model.Manifest.Decoder);
        Assert.True(File.Exists(new ModelRegistry(Registry).WeightsOf(model)));
        // Research-only data never makes a model for roll-out, whatever the gate measured.
        Assert.Equal(exit == 0 ? ModelStatus.Candidate : ModelStatus.Rejected, model.Status);
        var card = model.Card;
        Assert.Equal("lffd_head", card.BaseModel);
        Assert.Contains(Path.GetFullPath(train), card.Data, StringComparison.Ordinal);
        Assert.Contains("research-only", card.Data, StringComparison.Ordinal);
        Assert.Equal(0, card.Epochs);
        Assert.Equal(1, card.Results["frames"]);
        Assert.True(card.Results["recall"] > 0);
        Assert.NotNull(card.Gate);

        var manifestFile = card.DataManifest!.Split(" (sha256", 2)[0];
        var manifest = File.ReadAllLines(manifestFile);
        Assert.Equal(4, manifest.Length); // header + the three training frames with their sha256
        Assert.Matches("^PartA_\\d+\\.jpg,[0-9a-f]{64},\\d+$", manifest[1]);
        var report = File.ReadAllText(Path.ChangeExtension(manifestFile, null).Replace(".data-manifest", ".training.md", StringComparison.Ordinal));
        Assert.Contains("Not for roll-out", report, StringComparison.Ordinal);
        Assert.Contains("| lffd_head (base) |", report, StringComparison.Ordinal);
        Assert.Contains("calibrated on 2 validation frames", report, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"scores calibrated so that {CinemaVision.Core.Detections.DetectionThresholds.Default.Head:0.00}"), card.Notes, StringComparison.Ordinal);

        var list = Path.Combine(_dir, "frames.txt");
        File.WriteAllLines(list, Directory.GetFiles(Path.Combine(val, "Annotations")).Select(f => Path.GetFileNameWithoutExtension(f) + ".jpg"));
        var evaluated = await Cli.RunAsync("eval", "--model", "hall_test", "--input", RealData.ClassroomImages, "--gt", val, "--gt-format", "voc",
            "--class", "head", "--match", "center", "--list", list);
        Assert.True(evaluated.Exit == 0, evaluated.Err);
        Assert.Contains("tiled", evaluated.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no_such_model", "unknown model")]
    [InlineData("yolox_nano_coco_416", "implemented for LFFD models")]
    public async Task Train_WithABaseItCannotTrain_ExitsWith2NamingTheProblem(string baseModel, string message)
    {
        Environment.SetEnvironmentVariable(ModelRegistry.Variable, Registry);
        var (train, _) = Split();
        var (exit, _, stderr) = await Cli.RunAsync("train", "--data", train, "--images", RealData.ClassroomImages, "--base", baseModel, "--name", "x");
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Registry));
    }

    [Fact]
    public async Task Train_UnderTheNameOfAShippedModel_IsRefused()
    {
        Environment.SetEnvironmentVariable(ModelRegistry.Variable, Registry);
        var (train, _) = Split();
        var (exit, _, stderr) = await Cli.RunAsync("train", "--data", train, "--images", RealData.ClassroomImages, "--base", "lffd_head", "--name", "lffd_head");
        Assert.Equal(2, exit);
        Assert.Contains("is a model of models/models.json", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_InterruptedBySigint_ForwardsItToTheTrainerWhichSavesACheckpoint_AndTheSameCommandResumes()
    {
        Environment.SetEnvironmentVariable(ModelRegistry.Variable, Registry);
        var (train, _) = Split();
        var work = Path.Combine(_dir, "work");
        string[] args = ["train", "--data", train, "--images", RealData.ClassroomImages, "--base", "lffd_head", "--name", "hall_sigint",
            "--epochs", "500", "--batch", "2", "--crop", "128", "--sizes", "320", "--work", work];

        // A real cvtools process: SIGINT goes to it alone (not to a terminal's process group), so only forwarding reaches the trainer.
        var (exit, log) = RunCvtools(args, interruptAfter: " step ");
        output.WriteLine(log);
        Assert.Equal(130, exit);
        Assert.Contains("asking the trainer to save a checkpoint and stop", log, StringComparison.Ordinal);
        Assert.Contains("Run the same command again to resume", log, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(work, "run", "checkpoint.pt")));
        Assert.False(File.Exists(Path.Combine(Registry, "registry.json")), "a stopped training registers nothing");

        var (again, stdout, stderr) = await Cli.RunAsync([.. args, "--max-steps", "2", "--eval-frames", "0"]);
        output.WriteLine(stdout + stderr);
        Assert.True(again == 0, stdout + stderr);
        Assert.Contains("resuming at epoch", stdout, StringComparison.Ordinal);
        Assert.Contains("(unchanged", stdout, StringComparison.Ordinal);
        Assert.NotNull(new ModelRegistry(Registry).Current("hall_sigint"));
    }

    /// <summary>Three training and two validation frames of the classroom data (annotation files copied, images read in place).</summary>
    private (string Train, string Val) Split()
    {
        var all = RealData.ClassroomSubset(Path.Combine(_dir, "all"), 5);
        var files = Directory.GetFiles(Path.Combine(all, "Annotations")).Order(StringComparer.Ordinal).ToList();
        string Make(string name, IEnumerable<string> subset)
        {
            var dir = Directory.CreateDirectory(Path.Combine(_dir, name, "Annotations")).FullName;
            foreach (var f in subset) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
            return Path.GetDirectoryName(dir)!;
        }

        return (Make("train", files.Take(3)), Make("val", files.Skip(3)));
    }

    private (int Exit, string Log) RunCvtools(string[] args, string? interruptAfter)
    {
        // As from a terminal: a test runner started as a background job passes SIGINT on as ignored, and a process
        // started with SIGINT ignored keeps it ignored (Ctrl-C cannot reach a background job). Python restores the
        // default disposition and execs cvtools.
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])", "dotnet" }) start.ArgumentList.Add(a);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cvtools.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment[ModelRegistry.Variable] = Registry;
        using var process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        var interrupted = false;
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (log) log.AppendLine(line);
            if (interruptAfter is not null && !interrupted && line.Contains(interruptAfter, StringComparison.Ordinal))
            {
                interrupted = true;
                using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("cvtools train did not finish in 15 minutes:\n" + log);
        }

        process.WaitForExit();
        lock (log) return (process.ExitCode, log.ToString());
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ModelRegistry.Variable, _oldRegistry);
        Directory.Delete(_dir, recursive: true);
    }
}
