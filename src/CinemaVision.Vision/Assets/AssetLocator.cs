namespace CinemaVision.Vision.Assets;

/// <summary>
/// Finds third-party assets (model weights, sample footage) by their path relative to the asset root, e.g.
/// <c>models/yolox_nano_coco_416.onnx</c> or <c>data/pets09-s2l1/vtest_first100.avi</c>.
/// Looks in the verified cache (<c>CINEMAVISION_ASSET_CACHE</c>, default <c>.cache/assets</c> at the repository
/// root) first, then in the mirror folder (<c>CINEMAVISION_ASSET_MIRROR</c>, default <c>../shared/assets</c>
/// beside the repository root). Assets are never committed: <c>cvtools models fetch</c> fills the cache.
/// </summary>
public static class AssetLocator
{
    public const string CacheVariable = "CINEMAVISION_ASSET_CACHE";
    public const string MirrorVariable = "CINEMAVISION_ASSET_MIRROR";

    /// <summary>The repository root: the nearest ancestor of the working directory or of this assembly holding CinemaVision.sln.</summary>
    public static string? RepositoryRoot { get; } = FindRepositoryRoot();

    public static string CacheRoot =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } c
            ? Path.GetFullPath(c)
            : Path.Combine(RepositoryRoot ?? Directory.GetCurrentDirectory(), ".cache", "assets");

    public static string? MirrorRoot
    {
        get
        {
            if (Environment.GetEnvironmentVariable(MirrorVariable) is { Length: > 0 } m) return Path.GetFullPath(m);
            if (RepositoryRoot is null) return null;
            var beside = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "assets"));
            return Directory.Exists(beside) ? beside : null;
        }
    }

    /// <summary>The full path of an asset, or null when neither the cache nor the mirror has it.</summary>
    public static string? TryResolve(string relativePath)
    {
        var cached = Path.Combine(CacheRoot, relativePath);
        if (File.Exists(cached)) return cached;
        if (MirrorRoot is { } mirror)
        {
            var mirrored = Path.Combine(mirror, relativePath);
            if (File.Exists(mirrored)) return mirrored;
        }

        return null;
    }

    /// <summary>The full path of an asset; throws a message that says how to get it when it is missing.</summary>
    public static string Resolve(string relativePath) =>
        TryResolve(relativePath) ?? throw new FileNotFoundException(
            $"Asset '{relativePath}' is not in the cache ({CacheRoot}) nor in a mirror folder. " +
            $"Run './cvtools models fetch' (set {MirrorVariable} to a local mirror folder when offline).",
            relativePath);

    private static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CinemaVision.sln"))) return dir.FullName;
            }
        }

        return null;
    }
}
