using System.CommandLine;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;

namespace CinemaVision.Tools.Commands;

/// <summary><c>cvtools models fetch|list|verify</c>: the managed, verified model and sample-data assets.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "Fetch, list and verify the model weights and sample footage listed in models/models.json.");
        command.Subcommands.Add(Fetch());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Verify());
        return command;
    }

    private static Command Fetch()
    {
        var mirror = new Option<string?>("--mirror") { Description = $"Folder to copy assets from (default: ${AssetLocator.MirrorVariable}, else download from each upstream URL)." };
        var only = new Option<string?>("--only") { Description = "Fetch only this model (name) or data file (path)." };
        var noData = new Option<bool>("--models-only") { Description = "Skip the sample footage and photos." };
        var command = new Command("fetch", "Copy each asset from the mirror folder or download it, verify its sha256, and store it in the cache (.cache/assets).") { mirror, only, noData };
        command.SetAction(async (parse, ct) =>
        {
            var catalog = ModelCatalog.Default;
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            var fetcher = AssetFetcher.CreateDefault(http, parse.GetValue(mirror));
            var filter = parse.GetValue(only);
            var items = catalog.Models.Select(m => (m.Name, m.File, m.Sha256, m.Url, m.Provenance))
                .Concat(parse.GetValue(noData) ? [] : catalog.Data.Select(d => (Name: d.File, d.File, d.Sha256, d.Url, Provenance: (string?)null)))
                .Where(i => filter is null || string.Equals(i.Name, filter, StringComparison.OrdinalIgnoreCase) || string.Equals(i.File, filter, StringComparison.OrdinalIgnoreCase))
                .ToList();
            if (items.Count == 0)
            {
                Console.Error.WriteLine($"cvtools models fetch: nothing matches '{filter}'.");
                return 2;
            }

            int failed = 0;
            foreach (var (name, file, sha, url, provenance) in items)
            {
                try
                {
                    var r = await fetcher.FetchAsync(name, file, sha, url, ct).ConfigureAwait(false);
                    Console.WriteLine(r.AlreadyCached ? $"ok       {file} (cached, sha256 verified)" : $"fetched  {file} from {r.Source} (sha256 verified)");
                    // An installer chooses a model knowingly: where its weights come from is said every time they are fetched.
                    if (provenance is not null) Console.WriteLine($"         provenance of {name}: {provenance}");
                }
                catch (ModelAssetException ex)
                {
                    failed++;
                    Console.Error.WriteLine($"FAILED   {ex.Message}");
                }
            }

            Console.WriteLine($"{items.Count - failed} of {items.Count} assets in {AssetLocator.CacheRoot}");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the models in the manifest with their input, classes and licence.");
        command.SetAction(_ =>
        {
            foreach (var m in ModelCatalog.Default.Models)
            {
                var cached = AssetLocator.TryResolve(m.File) is null ? "not fetched" : "available";
                var shape = m.Input.DynamicSize ? $"[1,3,any,any] (nominal {m.Input.Width}x{m.Input.Height})" : $"[{string.Join(",", m.Input.Shape)}]";
                Console.WriteLine($"{m.Name,-22} {m.Decoder,-9} input {m.Input.Name} {shape} {m.Input.ColorOrder} {m.Input.Resize,-9} {m.ClassNames.Count,3} classes  {m.Licence,-10} {cached}");
                if (m.Provenance is not null) Console.WriteLine($"{"",-22} provenance: {m.Provenance}");
            }

            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var command = new Command("verify", "Load every model with ONNX Runtime and check hash, input name/shape and class count against the manifest.");
        command.SetAction(_ =>
        {
            int failed = 0;
            foreach (var m in ModelCatalog.Default.Models)
            {
                try
                {
                    using var session = OnnxModelSession.Open(m);
                    Console.WriteLine($"ok       {m.Name}: input {session.InputSize}, {session.ClassCount} classes, outputs {string.Join(" ", session.OutputShapes.Select(s => "[" + string.Join(",", s) + "]"))}");
                }
                catch (ModelAssetException ex)
                {
                    failed++;
                    Console.Error.WriteLine($"FAILED   {ex.Message}");
                }
            }

            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
