using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Datasets;
using CinemaVision.Core.Detections;
using CinemaVision.Tools.Datasets;
using CinemaVision.Tools.Models;
using CinemaVision.Tools.Training;
using CinemaVision.Vision.Assets;
using CinemaVision.Core.Tiling;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;

namespace CinemaVision.Tools.Commands;

/// <summary>
/// <c>cvtools train --data ANNOTATIONS --images DIR --base MODEL --name NAME [--epochs E] [--minutes M] [--val ANNOTATIONS]</c>:
/// slices the labelled frames into multi-scale tiles, fine-tunes the base model with the PyTorch trainer (a child
/// process: progress streamed, Ctrl-C saves a checkpoint, running the command again resumes), checks the export in
/// ONNX Runtime, and registers it under NAME through the model registry and its import gate (measured against the
/// current model on --val), with a model card, a data manifest and a training report.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Training annotations: a VOC folder, COCO JSON, YOLO folder (or CVAT XML, MOT).", Required = true };
        var images = new Option<string>("--images") { Description = "The images the annotations name.", Required = true };
        var baseModel = new Option<string>("--base") { Description = "The model to start from, by its manifest name (e.g. lffd_head).", Required = true };
        var name = new Option<string>("--name") { Description = "Name to register the trained model under (letters, digits, '_', '-', '.').", Required = true };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the tiles (default: as many as fit in --minutes)." };
        var minutes = new Option<double?>("--minutes") { Description = "Stop training after this many minutes (summed over resumed runs; default 60 when --epochs is not given)." };
        var val = new Option<string?>("--val") { Description = "Validation annotations (never trained on): loss per epoch, the best epoch is kept, and base vs trained are measured on it." };
        var valImages = new Option<string?>("--val-images") { Description = "Images of --val (default: --images)." };
        var from = new Option<string?>("--from") { Description = "Format of --data and --val: voc | coco | yolo | cvat | mot (default: guessed)." };
        var terms = new Option<string>("--data-terms") { Description = "Terms of the training images: site-owned | licensed | research-only (written on the model card; only site-owned or licensed data makes a model for roll-out).", DefaultValueFactory = _ => "undeclared" };
        var sizes = new Option<string>("--sizes") { Description = "Tile edges for slicing, in source pixels.", DefaultValueFactory = _ => "512,1024" };
        var overlap = new Option<float>("--overlap") { Description = "Tile overlap.", DefaultValueFactory = _ => 0.2f };
        var work = new Option<string?>("--work") { Description = "Work folder for tiles, checkpoints and logs (default: artifacts/train/NAME)." };
        var fresh = new Option<bool>("--fresh") { Description = "Start afresh even when a checkpoint of this training exists." };
        var batch = new Option<int?>("--batch") { Description = "Crops per step (default 16)." };
        var crop = new Option<int?>("--crop") { Description = "Training crop edge in pixels (default 256)." };
        var threads = new Option<int?>("--threads") { Description = "Training threads (default: every core)." };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop after this many steps (smoke tests)." };
        var evalFrames = new Option<int>("--eval-frames") { Description = "Validation frames to measure base and trained model on (evenly spaced; 0 skips the measurement).", DefaultValueFactory = _ => 100 };
        var command = new Command("train", """
            Fine-tune a detection model on labelled frames of your own hall. The frames are sliced into multi-scale
            tiles (as cvtools slice does), the PyTorch trainer (Debian's python3-torch; ./scripts/setup --with-training)
            starts from the base model's ONNX weights and prints loss, tiles/s and time left; Ctrl-C saves a checkpoint
            and stops, and the same command run again resumes. The result keeps the base model's inputs and outputs,
            is checked in ONNX Runtime and registered under --name through the model registry with a model card
            (base model, data and its terms, data manifest, epochs, measured results) and a training report; it is
            usable at once: cvtools eval --model NAME. With --val, the import gate measures it against the current
            model with the product's own detection pipeline and promotes or refuses it (exit code 3 = refused).
            Data that is not site-owned or licensed never makes a promoted model.

            Examples:
              cvtools train --data labels/hall3 --images frames/hall3 --base lffd_head --name hall3_heads --minutes 60 --val labels/hall3-check --data-terms site-owned
              cvtools train --data heads.json --images frames --base lffd_head --name hall3_heads --epochs 20
            """) { data, images, baseModel, name, epochs, minutes, val, valImages, from, terms, sizes, overlap, work, fresh, batch, crop, threads, maxSteps, evalFrames };
        command.SetAction(parse => Ui.Guard("train", () =>
        {
            var options = new TrainOptions
            {
                Data = parse.GetValue(data)!,
                Images = parse.GetValue(images)!,
                Base = parse.GetValue(baseModel)!,
                Name = parse.GetValue(name)!,
                Epochs = parse.GetValue(epochs),
                Minutes = parse.GetValue(minutes),
                Val = parse.GetValue(val),
                ValImages = parse.GetValue(valImages),
                From = parse.GetValue(from),
                Terms = ParseTerms(parse.GetValue(terms)!),
                Sizes = SliceCommand.ParseSizes(parse.GetValue(sizes)!),
                Overlap = parse.GetValue(overlap),
                Work = parse.GetValue(work),
                Fresh = parse.GetValue(fresh),
                Batch = parse.GetValue(batch),
                Crop = parse.GetValue(crop),
                Threads = parse.GetValue(threads),
                MaxSteps = parse.GetValue(maxSteps),
                EvalFrames = parse.GetValue(evalFrames),
            };
            try
            {
                return Run(options, ModelRegistry.Default);
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine($"cvtools train: {ex.Message}");
                return 2;
            }
        }));
        return command;
    }

    internal sealed record TrainOptions
    {
        public required string Data { get; init; }
        public required string Images { get; init; }
        public required string Base { get; init; }
        public required string Name { get; init; }
        public int? Epochs { get; init; }
        public double? Minutes { get; init; }
        public string? Val { get; init; }
        public string? ValImages { get; init; }
        public string? From { get; init; }
        public DataTerms Terms { get; init; }
        public required IReadOnlyList<int> Sizes { get; init; }
        public float Overlap { get; init; } = 0.2f;
        public string? Work { get; init; }
        public bool Fresh { get; init; }
        public int? Batch { get; init; }
        public int? Crop { get; init; }
        public int? Threads { get; init; }
        public int? MaxSteps { get; init; }
        public int EvalFrames { get; init; } = 100;
    }

    internal static DataTerms ParseTerms(string value) => value.Trim().ToLowerInvariant() switch
    {
        "undeclared" => DataTerms.Undeclared,
        "site-owned" or "owned" => DataTerms.SiteOwned,
        "licensed" or "licenced" => DataTerms.Licensed,
        "research-only" or "research" => DataTerms.ResearchOnly,
        _ => throw new ArgumentException($"--data-terms must be site-owned, licensed or research-only (was '{value}')."),
    };

    internal static int Run(TrainOptions o, ModelRegistry registry)
    {
        if (!IsValidName(o.Name)) throw new ArgumentException($"--name '{o.Name}' must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit.");
        if (o.Epochs is < 1) throw new ArgumentException("--epochs must be at least 1.");
        if (o.Minutes is <= 0) throw new ArgumentException("--minutes must be above 0.");
        if (o.EvalFrames < 0) throw new ArgumentException("--eval-frames must be 0 or more.");
        var minutes = o.Minutes ?? (o.Epochs is null ? 60 : null);

        var catalog = ModelCatalog.Default;
        var baseManifest = catalog.Get(o.Base);
        if (!string.Equals(baseManifest.Decoder, "lffd", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--base {baseManifest.Name} uses the {baseManifest.Decoder} layout; training is implemented for LFFD models (decoder lffd), e.g. lffd_head.");
        }

        if (catalog.Models.Any(m => string.Equals(m.Name, o.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"--name {o.Name} is a model of models/models.json; choose another name.");
        }

        var baseFile = ModelCatalog.ResolveFile(baseManifest);
        var baseSha = AssetFetcher.HashAsync(baseFile, CancellationToken.None).GetAwaiter().GetResult();
        if (!string.Equals(baseSha, baseManifest.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelAssetException(baseManifest.Name, $"sha256 of {baseFile} is {baseSha}, the manifest expects {baseManifest.Sha256}; run './cvtools models fetch'");
        }

        var objectClass = baseManifest.ResolveClassMap().FirstOrDefault(c => c != ObjectClass.Other);
        var classLabel = ObjectClassNames.ToLabel(objectClass);
        var trainer = PythonTrainer.Locate();
        trainer.CheckPackages();

        var workDir = Path.GetFullPath(o.Work ?? Path.Combine(AssetLocator.RepositoryRoot ?? Directory.GetCurrentDirectory(), "artifacts", "train", o.Name));
        Directory.CreateDirectory(workDir);

        // 1. The labelled frames, then multi-scale tiles (re-used when the frames and options are unchanged).
        var format = o.From is { } f ? AnnotationFiles.ParseFormat(f) : AnnotationFiles.Infer(o.Data);
        var set = AnnotationFiles.Load(format, o.Data, o.Images);
        int classBoxes = CountBoxes(set, objectClass);
        if (classBoxes == 0) throw new ArgumentException($"--data {o.Data} has no '{classLabel}' boxes to train {baseManifest.Name} on (labels: {string.Join(", ", set.Labels)}).");
        Console.WriteLine($"data: {set.Images.Count} images, {classBoxes} '{classLabel}' boxes ({AnnotationFiles.Name(format)}, {o.Data}); terms: {TrainingReport.TermsText(o.Terms)}");
        var tiles = Slice(set, o, workDir);

        // 2. The validation set, in COCO for the trainer and for eval, with the list of its frames.
        ValidationSet? validation = null;
        if (o.Val is not null)
        {
            var valFormat = o.From is { } vf ? AnnotationFiles.ParseFormat(vf) : AnnotationFiles.Infer(o.Val);
            var valImages = o.ValImages ?? o.Images;
            var valSet = AnnotationFiles.Load(valFormat, o.Val, valImages);
            var overlapping = valSet.Images.Select(i => i.FileName).Intersect(set.Images.Select(i => i.FileName), StringComparer.Ordinal).Count();
            if (overlapping > 0 && Path.GetFullPath(valImages) == Path.GetFullPath(o.Images))
            {
                throw new ArgumentException($"--val shares {overlapping} images with --data; a validation set must be frames the model is not trained on.");
            }

            var valJson = Path.Combine(workDir, "val.json");
            AnnotationFiles.Save(valSet, AnnotationFormat.Coco, valJson);
            // The gate reads every image of its input folder: give it exactly the validation frames.
            var frames = Path.Combine(workDir, "val-images");
            if (Directory.Exists(frames)) Directory.Delete(frames, recursive: true);
            Directory.CreateDirectory(frames);
            foreach (var image in valSet.Images)
            {
                var source = Path.GetFullPath(Path.Combine(valImages, image.FileName));
                if (!File.Exists(source)) throw new FileNotFoundException($"--val names {image.FileName}, which is not in {valImages}.", source);
                File.CreateSymbolicLink(Path.Combine(frames, Path.GetFileName(image.FileName)), source);
            }

            validation = new ValidationSet(o.Val, valImages, valJson, frames, valSet.Images.Count, CountBoxes(valSet, objectClass));
            Console.WriteLine($"validation: {validation.Images} images, {validation.Boxes} '{classLabel}' boxes ({o.Val})");
        }

        // 3. Train (a child process). Its own folder holds checkpoint.pt, model.onnx and result.json.
        var runDir = Path.Combine(workDir, "run");
        var request = new TrainerRequest
        {
            BaseModel = baseFile,
            Annotations = tiles.Annotations,
            Images = tiles.Images,
            WorkFolder = runDir,
            ObjectClass = classLabel,
            Tiles = true,
            Validation = validation?.Coco,
            ValidationImages = validation?.ImageFolder,
            Epochs = o.Epochs,
            Minutes = minutes,
            MaxSteps = o.MaxSteps,
            Batch = o.Batch,
            Crop = o.Crop,
            Threads = o.Threads,
            Fresh = o.Fresh,
            // The edge keeps one threshold per class; the trained model's scores are calibrated to it on --val.
            OperatingThreshold = DetectionOptions.DefaultMerge.ThresholdFor(objectClass),
        };
        Console.WriteLine($"training with {trainer.Python} ({trainer.PackageRoot}); work folder {workDir}");
        using var log = new StreamWriter(Path.Combine(workDir, "train.log"), append: true, Encoding.UTF8) { AutoFlush = true };
        var logGate = new Lock(); // lines come from the trainer's stdout and stderr and from signal handlers
        int exit = trainer.RunAsync(request, line =>
        {
            lock (logGate)
            {
                Console.WriteLine(line);
                log.WriteLine(line);
            }
        }).GetAwaiter().GetResult();
        if (exit == PythonTrainer.Interrupted)
        {
            Console.WriteLine($"cvtools train: stopped; the checkpoint is in {runDir}. Run the same command again to resume.");
            return PythonTrainer.Interrupted;
        }

        if (exit != 0) throw new InvalidOperationException($"the trainer failed (exit {exit}); see {Path.Combine(workDir, "train.log")}.");
        var result = TrainerResult.Read(Path.Combine(runDir, "result.json"));
        var modelFile = result.Model ?? throw new InvalidDataException($"{runDir}/result.json names no model.");

        // 4. The export must load in ONNX Runtime with the base model's interface before anything is registered.
        var sha = AssetFetcher.HashAsync(modelFile, CancellationToken.None).GetAwaiter().GetResult();
        var version = DateTime.UtcNow.ToString("yyyy.MM.dd.HHmm", CultureInfo.InvariantCulture);
        var terms = TrainingReport.TermsText(o.Terms);
        var manifest = baseManifest with
        {
            Name = o.Name,
            Version = version,
            File = modelFile,
            Sha256 = sha,
            Url = null,
            Licence = $"site model ({terms} data) fine-tuned from {baseManifest.Name} ({baseManifest.Licence})",
            Provenance = $"Fine-tuned by cvtools train from {baseManifest.Name} on {set.Images.Count} images of {Path.GetFullPath(o.Data)} ({terms}). Base model: {baseManifest.Provenance ?? baseManifest.Description}",
            Description = $"{baseManifest.Name} fine-tuned on {set.Images.Count} labelled frames ({classBoxes} {classLabel} boxes); same inputs and outputs as the base model.",
        };
        using (OnnxModelSession.Open(manifest, modelFile))
        {
            Console.WriteLine($"checked: {modelFile} loads in ONNX Runtime with {baseManifest.Name}'s inputs and outputs");
        }

        // 5. Register through the model registry and its import gate: measured against the current model (the
        //    promoted version of NAME, else the base model) on the validation frames, promoted or refused.
        var folder = Directory.CreateDirectory(Path.Combine(registry.Root, "models", o.Name)).FullName;
        var (manifestCsv, manifestSha) = DataManifest(set, o.Images, objectClass);
        var dataManifestPath = Path.Combine(folder, version + ".data-manifest.csv");
        File.WriteAllText(dataManifestPath, manifestCsv);
        var reportPath = Path.Combine(folder, version + ".training.md");
        var limits = Limits(o.Terms, baseManifest, validation is not null && o.EvalFrames > 0);
        var card = new Core.Models.ModelCard
        {
            Name = o.Name,
            Version = version,
            BaseModel = baseManifest.Name,
            Data = $"{set.Images.Count} images ({classBoxes} {classLabel} boxes) of {Path.GetFullPath(o.Data)} with {Path.GetFullPath(o.Images)}; terms: {terms}",
            DataManifest = $"{dataManifestPath} (sha256 {manifestSha})",
            Epochs = result.EpochsCompleted,
            Licence = manifest.Licence,
            Notes = FormattableString.Invariant($"cvtools train: {result.Steps} steps of {result.Batch} crops ({result.Crop} px) from {tiles.Count} tiles, {result.TrainSeconds / 60:0.0} min on {result.Threads} threads, ended: {result.Status.Replace('_', ' ')}")
                + (result.Calibration is { } cal ? FormattableString.Invariant($"; scores calibrated so that {cal.Operating:0.00} gives the validation F1-best point (was {cal.Best:0.00})") : "")
                + $"; training report {reportPath}. " + string.Join(" ", limits),
            CreatedAt = DateTimeOffset.UtcNow,
        };
        GateSet? gate = validation is null || o.EvalFrames == 0 ? null : new GateSet(
            validation.Frames, validation.Coco, "coco", objectClass, MatchCriterion.Center, TilingMode.Tiled,
            Step: Math.Max(1, (int)Math.Ceiling(validation.Images / (double)o.EvalFrames)));
        if (gate is not null) Console.WriteLine($"measuring {o.Name} and the current model on {Math.Min(validation!.Images, o.EvalFrames)} validation frames (import gate)...");
        var imported = ModelImport.Run(modelFile, manifest, card, gate, current: null, registry: registry);
        var status = imported.Model.Status;
        bool shippable = o.Terms is DataTerms.SiteOwned or DataTerms.Licensed;
        if (!shippable && status == Core.Models.ModelStatus.Promoted)
        {
            // Figures alone do not make a model for roll-out: data the site may not ship keeps it a candidate.
            imported = imported with
            {
                Model = registry.SetStatus(o.Name, version, Core.Models.ModelStatus.Candidate,
                    imported.Model.Card with { Notes = imported.Model.Card.Notes + $" The gate found it not worse than {imported.CurrentName}, but it stays a candidate: {terms} data." }),
            };
            status = imported.Model.Status;
        }

        Console.WriteLine($"registered: {o.Name}:{version} ({status}) in {registry.Root}; cvtools eval --model {o.Name} uses it");
        if (imported.Decision is { } decision)
        {
            foreach (var c in decision.Checks)
            {
                Console.WriteLine(FormattableString.Invariant($"  {c.Figure,-10} {o.Name} {Show(c.Candidate)}  {imported.CurrentName} {Show(c.Current)}  margin {c.Margin:0.###}  {(c.Passed ? "ok" : "WORSE")}"));
            }

            Console.WriteLine($"gate: {decision.Summary}");
        }

        // 6. The training report beside the weights: how it was trained and what it measured.
        var report = new TrainingReport
        {
            Name = o.Name,
            Created = DateTimeOffset.UtcNow,
            Task = $"{classLabel} detection, {baseManifest.Decoder} layout",
            BaseModel = new BaseModelInfo(baseManifest.Name, baseManifest.Version, baseManifest.Sha256, baseManifest.Licence, baseManifest.Provenance),
            Data = new TrainingData
            {
                Annotations = Path.GetFullPath(o.Data),
                Format = AnnotationFiles.Name(format),
                Images = Path.GetFullPath(o.Images),
                ImageCount = set.Images.Count,
                BoxCount = classBoxes,
                Class = classLabel,
                Terms = o.Terms,
                Manifest = dataManifestPath,
                ManifestSha256 = manifestSha,
                TileSizes = o.Sizes,
                TileOverlap = o.Overlap,
                TileCount = tiles.Count,
                Validation = validation is null ? null : new ValidationData(Path.GetFullPath(validation.Annotations), Path.GetFullPath(validation.ImageFolder), validation.Images, validation.Boxes),
            },
            Training = new TrainingRun
            {
                EpochsPlanned = result.EpochsPlanned,
                EpochsCompleted = result.EpochsCompleted,
                Steps = result.Steps,
                Batch = result.Batch,
                Crop = result.Crop,
                TrainSeconds = result.TrainSeconds,
                SecondsPerEpoch = result.SecondsPerEpoch,
                TilesPerSecond = result.TilesPerSecond,
                Threads = result.Threads,
                Cores = Environment.ProcessorCount,
                Status = result.Status.Replace('_', ' '),
                EpochLosses = result.EpochLosses,
                ValidationLosses = result.ValLosses,
                BestEpoch = result.BestEpoch,
                Trainer = "cvtrain (PyTorch on the CPU): LFFD targets and hard-negative-mined loss, started from the base model's ONNX weights",
                Calibration = result.Calibration,
            },
            Results = imported is { Candidate: { } cand, Current: { } cur } && gate is not null
                ? new MeasuredResults($"{imported.Model.Card.EvaluatedOn}", cand.Frames, "tiled", "center",
                    new Metrics(cur.Precision, cur.Recall, cur.CountMae, cur.Ap50), new Metrics(cand.Precision, cand.Recall, cand.CountMae, cand.Ap50),
                    $"{imported.Decision?.Summary}; status {status}")
                : null,
            Interface = $"Same input ('{baseManifest.Input.Name}', {baseManifest.Input.ColorOrder}, [1,3,H,W]) and outputs as {baseManifest.Name}, the same graph and operators: the edge runs it with no code change and the inference cost is unchanged.",
            Limits = limits,
        };
        File.WriteAllText(Path.Combine(folder, version + ".training.json"), JsonSerializer.Serialize(report, TrainingReport.Json));
        File.WriteAllText(reportPath, report.ToMarkdown());
        Console.WriteLine($"training report: {reportPath}");
        if (report.Results is { } r)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"measured on {r.Frames} validation frames: recall {r.Base.Recall:0.000} -> {r.Trained.Recall:0.000}, precision {r.Base.Precision:0.000} -> {r.Trained.Precision:0.000}, count MAE {r.Base.CountMae:0.00} -> {r.Trained.CountMae:0.00}"));
        }

        if (!shippable) Console.WriteLine($"note: {limits[0]}");
        return imported.Decision is { Promote: false } ? ModelsImportCommand.Refused : 0;
    }

    private static string Show(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    internal static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && !name.Contains("..", StringComparison.Ordinal);

    private static int CountBoxes(AnnotationSet set, ObjectClass cls) =>
        set.Images.Sum(i => i.Boxes.Count(b => !b.Ignore && !b.IsDegenerate && ObjectClassNames.FromLabel(b.Label) == cls));

    private static List<string> Limits(DataTerms terms, ModelManifest baseModel, bool measured)
    {
        var limits = new List<string>
        {
            terms switch
            {
                DataTerms.ResearchOnly => "Trained on research-only data: for development and evaluation on this machine. Never ship these weights or roll this model out.",
                DataTerms.Undeclared => "The terms of the training images were not declared (--data-terms): confirm the site owns or may use them before this model is rolled out.",
                _ => $"Trained only on {TrainingReport.TermsText(terms)} images named in the data manifest.",
            },
            $"It inherits what {baseModel.Name} learnt before: {baseModel.Provenance ?? baseModel.Description ?? "see its card"}",
            "Tuned for the halls and cameras it saw: measure it on a room it never saw before trusting it elsewhere.",
        };
        if (!measured) limits.Add("Not measured here (no --val): run cvtools eval on labelled frames it never saw.");
        return limits;
    }

    private sealed record TileSet(string Annotations, string Images, int Count);

    private sealed record ValidationSet(string Annotations, string ImageFolder, string Coco, string Frames, int Images, int Boxes);

    private static TileSet Slice(AnnotationSet set, TrainOptions o, string workDir)
    {
        var options = new SliceOptions { Sizes = o.Sizes, Overlap = o.Overlap };
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
        var dir = Path.Combine(workDir, "tiles");
        var stamp = Path.Combine(workDir, "tiles.stamp");
        var key = SliceKey(set, o);
        var annotations = Path.Combine(dir, "annotations.json");
        if (File.Exists(stamp) && File.ReadAllText(stamp) == key && File.Exists(annotations))
        {
            int count = Directory.GetFiles(Path.Combine(dir, "images")).Length;
            Console.WriteLine($"tiles: {count} (unchanged, {dir})");
            return new TileSet(annotations, Path.Combine(dir, "images"), count);
        }

        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        using var pixels = DatasetImages.Open(o.Images);
        var console = Ui.Create();
        var result = Ui.Progress(console, "slicing", p => DatasetSlicing.Run(set, pixels, options, AnnotationFormat.Coco, dir, p));
        File.WriteAllText(stamp, key);
        var perScale = string.Join(", ", result.Plan.Scales.Select(s => $"{s.Kept} of {s.Size} px"));
        Console.WriteLine($"tiles: {result.Plan.Tiles.Count} ({perScale}) in {dir}");
        return new TileSet(annotations, Path.Combine(dir, "images"), result.Plan.Tiles.Count);
    }

    /// <summary>What the tiles depend on: the labels (file, box, label, ignore) and the slicing options.</summary>
    private static string SliceKey(AnnotationSet set, TrainOptions o)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Path.GetFullPath(o.Images)}|{string.Join(',', o.Sizes)}|{o.Overlap}\n");
        foreach (var i in set.Images)
        {
            text.Append(i.FileName).Append('|');
            foreach (var b in i.Boxes) text.Append(CultureInfo.InvariantCulture, $"{b.Box.X},{b.Box.Y},{b.Box.Width},{b.Box.Height},{b.Label},{b.Ignore};");
            text.Append('\n');
        }

        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Every training image with its sha256 and box count: names the data exactly (file,sha256,boxes).</summary>
    private static (string Csv, string Sha256) DataManifest(AnnotationSet set, string images, ObjectClass cls)
    {
        var csv = new StringBuilder("file,sha256,boxes\n");
        foreach (var image in set.Images.OrderBy(i => i.FileName, StringComparer.Ordinal))
        {
            var path = Path.Combine(images, image.FileName);
            var hash = File.Exists(path) ? AssetFetcher.HashAsync(path, CancellationToken.None).GetAwaiter().GetResult() : "missing";
            csv.Append(CultureInfo.InvariantCulture, $"{image.FileName},{hash},{image.Boxes.Count(b => !b.Ignore && ObjectClassNames.FromLabel(b.Label) == cls)}\n");
        }

        var text = csv.ToString();
        return (text, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant());
    }
}
