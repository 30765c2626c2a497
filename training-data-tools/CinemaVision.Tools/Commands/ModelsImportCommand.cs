using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Models;
using CinemaVision.Tools.Export;
using CinemaVision.Tools.Models;
using CinemaVision.Vision.Models;
using Spectre.Console;

namespace CinemaVision.Tools.Commands;

/// <summary><c>cvtools models import FILE --name N --decoder D ...</c>: register a new ONNX model, gate its promotion on a labelled set.</summary>
internal static class ModelsImportCommand
{
    /// <summary>Exit code when the gate refuses the model (registered, not promoted).</summary>
    public const int Refused = 3;

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The ONNX model file." };
        var name = new Option<string>("--name") { Description = "The model's name (not a shipped model's name).", Required = true };
        var version = new Option<string?>("--version") { Description = "Version (default: UTC date and time)." };
        var decoder = new Option<string?>("--decoder") { Description = "Output layout: yolox | ultraface (and the decoders the installed cvtools knows). Default: --like's." };
        var like = new Option<string?>("--like") { Description = "A known model whose input convention, decoder and classes the new one shares (default: --base-model)." };
        var inputName = new Option<string?>("--input-name") { Description = "Input tensor name." };
        var inputSize = new Option<string?>("--input-size") { Description = "Input WIDTHxHEIGHT, e.g. 416x416." };
        var classes = new Option<string?>("--classes") { Description = "Class names in model order, comma-separated." };
        var classMap = new Option<string?>("--class-map") { Description = "Model class to product class, e.g. head=Head,person=Person (default: by name)." };
        var colour = new Option<string?>("--color-order") { Description = "bgr | rgb." };
        var resize = new Option<string?>("--resize") { Description = "letterbox | stretch." };
        var mean = new Option<string?>("--mean") { Description = "Per-channel mean, e.g. 127,127,127." };
        var std = new Option<string?>("--std") { Description = "Per-channel std, e.g. 128,128,128." };
        var baseModel = new Option<string?>("--base-model") { Description = "The model it was trained from (model card; the default model to beat)." };
        var data = new Option<string?>("--data") { Description = "What it was trained on (model card)." };
        var dataManifest = new Option<string?>("--data-manifest") { Description = "The training data's manifest (model card)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs trained (model card)." };
        var licence = new Option<string?>("--licence") { Description = "Licence of the weights (model card)." };
        var evalInput = new Option<string?>("--eval-input") { Description = "Labelled frames (video, folder, sequence) for the promotion gate." };
        var evalGt = new Option<string?>("--eval-gt") { Description = "Their ground truth (any format eval reads)." };
        var gtFormat = new Option<string?>("--gt-format") { Description = "mot | voc | yolo | coco | cvat | csv." };
        var evalClass = new Option<string>("--class") { Description = "The class the gate measures.", DefaultValueFactory = _ => "person" };
        var match = new Option<string>("--match") { Description = "iou | center.", DefaultValueFactory = _ => "iou" };
        var tiling = new Option<string>("--tiling") { Description = "full | tiled | auto, for both models.", DefaultValueFactory = _ => "tiled" };
        var frames = new Option<int>("--frames") { Description = "At most N frames.", DefaultValueFactory = _ => int.MaxValue };
        var step = new Option<int>("--step") { Description = "Every Nth frame.", DefaultValueFactory = _ => 1 };
        var ignore = new Option<string[]>("--ignore-region") { Description = "x,y,w,h where unlabelled detections count neither way (repeatable)." };
        var current = new Option<string?>("--current") { Description = "The model to beat (default: the promoted version of --name, else --base-model)." };
        var marginAp = new Option<double>("--margin-ap50") { Description = "AP50 may drop at most this much.", DefaultValueFactory = _ => new GateMargins().Ap50 };
        var marginP = new Option<double>("--margin-precision") { Description = "Precision may drop at most this much.", DefaultValueFactory = _ => new GateMargins().Precision };
        var marginR = new Option<double>("--margin-recall") { Description = "Recall may drop at most this much.", DefaultValueFactory = _ => new GateMargins().Recall };
        var marginC = new Option<double>("--margin-count") { Description = "Count MAE may grow at most this much.", DefaultValueFactory = _ => new GateMargins().CountMae };
        var gain = new Option<double>("--min-gain") { Description = "Demand at least this AP50 gain (0: not worse is enough).", DefaultValueFactory = _ => 0 };
        var centre = new Option<string?>("--centre") { Description = "Upload the promoted model with its card to this central service (DataTeam user)." };
        var user = new Option<string?>("--user") { Description = "User name at the centre (password in $CINEMAVISION_PASSWORD)." };
        var command = new Command("import", $$"""
            Register a new ONNX model and decide whether to promote it. The file is loaded with ONNX Runtime and checked
            against its declared input (name, shape, 3 channels) and classes (the output's class count); a mismatch
            registers nothing. With --eval-input/--eval-gt, the new model and the current one are evaluated on the same
            labelled set with the same tiling, and the gate promotes it only if no figure is worse beyond its margin
            (defaults: {{new GateMargins()}}). The verdict and the figures go on the model card. Exit code 0 = promoted
            (or registered without a gate), {{Refused}} = refused (registered as rejected, not used by default).

            Examples:
              cvtools models import hall_heads.onnx --name hall_heads --base-model lffd_head --data "hall 3, 400 frames" --epochs 30 \
                  --eval-input held-out/JPEGImages --eval-gt held-out/Annotations --class head
              cvtools models import yolox_s.onnx --name pets_person --like yolox_nano_coco_416 --decoder yolox --input-size 640x640 \
                  --eval-input vtest_first100.avi --eval-gt gt_first100.txt --current yolox_nano_coco_416 --centre http://127.0.0.1:8080 --user dana
            """) { name, version, decoder, like, inputName, inputSize, classes, classMap, colour, resize, mean, std, baseModel, data, dataManifest, epochs, licence,
            evalInput, evalGt, gtFormat, evalClass, match, tiling, frames, step, ignore, current, marginAp, marginP, marginR, marginC, gain, centre, user };
        command.Arguments.Add(file);
        command.SetAction(parse => Ui.Guard("models import", () =>
        {
            var console = Ui.Create();
            var template = (parse.GetValue(like) ?? parse.GetValue(baseModel)) is { } t ? ModelCatalog.Default.Get(t) : null;
            var manifest = BuildManifest(parse, template, name, version, decoder, inputName, inputSize, classes, classMap, colour, resize, mean, std, baseModel);
            var card = new ModelCard
            {
                Name = manifest.Name,
                Version = manifest.Version,
                BaseModel = parse.GetValue(baseModel),
                Data = parse.GetValue(data),
                DataManifest = parse.GetValue(dataManifest),
                Epochs = parse.GetValue(epochs),
                Licence = parse.GetValue(licence) ?? manifest.Licence,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            GateSet? gate = null;
            if (parse.GetValue(evalInput) is { } input)
            {
                gate = new GateSet(input, parse.GetValue(evalGt) ?? throw new ArgumentException("--eval-gt is required with --eval-input."), parse.GetValue(gtFormat),
                    ObjectClassNames.Parse(parse.GetValue(evalClass)!), parse.GetValue(match) == "center" ? MatchCriterion.Center : MatchCriterion.IoU,
                    DetectorArguments.ParseTiling(parse.GetValue(tiling)!), parse.GetValue(frames), Math.Max(1, parse.GetValue(step)),
                    (parse.GetValue(ignore) ?? []).Select(ParseRegion).ToList());
            }

            var margins = new GateMargins { Ap50 = parse.GetValue(marginAp), Precision = parse.GetValue(marginP), Recall = parse.GetValue(marginR), CountMae = parse.GetValue(marginC), MinimumGain = parse.GetValue(gain) };
            var result = ModelImport.Run(parse.GetValue(file)!, manifest, card, gate, parse.GetValue(current), margins);
            var m = result.Model.Manifest;
            console.WriteLine($"registered {m.Name}:{m.Version} ({m.Decoder}, input {m.Input.Name} [{string.Join(",", m.Input.Shape)}], {m.ClassNames.Count} classes, sha256 {m.Sha256[..12]}...)");
            if (result.Decision is { } d)
            {
                var table = Ui.Table("figure", m.Name, result.CurrentName ?? "(none)", "margin", "ok");
                foreach (var c in d.Checks) table.Row(c.Figure, Show(c.Candidate), Show(c.Current), c.Margin.ToString("0.###", CultureInfo.InvariantCulture), c.Passed ? "yes" : "NO");
                console.Write(table);
                console.WriteLine($"gate margins: {d.Margins}");
                console.WriteLine(d.Summary);
            }

            if (result.Decision is { Promote: false }) return Refused;
            if (parse.GetValue(centre) is { } url)
            {
                var password = Environment.GetEnvironmentVariable("CINEMAVISION_PASSWORD") ?? throw new ArgumentException("set the centre password in $CINEMAVISION_PASSWORD.");
                var client = CentreClient.Create(url);
                client.SignInAsync(parse.GetValue(user) ?? throw new ArgumentException("--user is required with --centre."), password).GetAwaiter().GetResult();
                var sha = client.UploadModelAsync(JsonSerializer.Serialize(m, CentreClient.Json), result.Model.Card, ModelRegistry.Default.WeightsOf(result.Model)).GetAwaiter().GetResult();
                console.WriteLine($"uploaded to {url} (sha256 {sha[..12]}...); assign it to an auditorium with PUT /api/v1/sites/SITE/auditoriums/AUDITORIUM/model");
            }

            return 0;
        }));
        return command;
    }

    private static ModelManifest BuildManifest(ParseResult parse, ModelManifest? template, Option<string> name, Option<string?> version, Option<string?> decoder, Option<string?> inputName, Option<string?> inputSize,
        Option<string?> classes, Option<string?> classMap, Option<string?> colour, Option<string?> resize, Option<string?> mean, Option<string?> std, Option<string?> baseModel)
    {
        var dec = parse.GetValue(decoder) ?? template?.Decoder ?? throw new ArgumentException("--decoder is required (or --like / --base-model a known model).");
        var names = parse.GetValue(classes)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? template?.ClassNames.ToList()
            ?? throw new ArgumentException("--classes is required (or --like a known model).");
        var input = template?.Input ?? new ModelInput { Name = "images", Shape = [1, 3, 416, 416] };
        if (parse.GetValue(inputName) is { } n) input = input with { Name = n };
        if (parse.GetValue(inputSize) is { } size)
        {
            var p = size.ToLowerInvariant().Split('x');
            if (p.Length != 2 || !int.TryParse(p[0], CultureInfo.InvariantCulture, out int w) || !int.TryParse(p[1], CultureInfo.InvariantCulture, out int h)) throw new ArgumentException($"--input-size must be WIDTHxHEIGHT (was '{size}').");
            input = input with { Shape = [1, 3, h, w] };
        }

        if (parse.GetValue(colour) is { } c) input = input with { ColorOrder = c };
        if (parse.GetValue(resize) is { } r) input = input with { Resize = r };
        if (parse.GetValue(mean) is { } mv) input = input with { Mean = Floats(mv, "--mean") };
        if (parse.GetValue(std) is { } sv) input = input with { Std = Floats(sv, "--std") };
        var map = parse.GetValue(classMap) is { } cm
            ? cm.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split('=')).ToDictionary(e => e[0].Trim(), e => e.Length == 2 ? e[1].Trim() : throw new ArgumentException($"--class-map entries are model=Product (was '{string.Join("=", e)}')."))
            : names.Where(x => ObjectClassNames.FromLabel(x) != ObjectClass.Other).ToDictionary(x => x, x => ObjectClassNames.FromLabel(x).ToString());
        return new ModelManifest
        {
            Name = parse.GetValue(name)!,
            Version = parse.GetValue(version) ?? DateTime.UtcNow.ToString("yyyy.MM.dd.HHmm", CultureInfo.InvariantCulture),
            File = "",
            Sha256 = "",
            Decoder = dec,
            Input = input,
            Strides = template?.Strides ?? [8, 16, 32],
            ClassNames = names,
            ClassMap = map,
            Licence = template?.Licence,
            Description = parse.GetValue(baseModel) is { } b ? $"Trained from {b}." : "Imported model.",
        };
    }

    private static float[] Floats(string s, string option) => s.Split(',').Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : throw new ArgumentException($"{option}: '{v}' is not a number.")).ToArray();

    private static Core.Geometry.BoxF ParseRegion(string value)
    {
        var p = value.Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return p.Length == 4 ? new Core.Geometry.BoxF(p[0], p[1], p[2], p[3]) : throw new ArgumentException($"--ignore-region must be x,y,w,h (was '{value}').");
    }

    private static string Show(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "-";
}
