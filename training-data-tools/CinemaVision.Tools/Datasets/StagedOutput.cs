namespace CinemaVision.Tools.Datasets;

/// <summary>
/// An output written beside its destination under a temporary name and moved into place only when complete, so a
/// failure or Ctrl-C never leaves a half-written data set where a trainer or a labelling tool would pick it up.
/// Disposing without <see cref="Commit"/> deletes the temporary copy.
/// </summary>
public sealed class StagedOutput : IDisposable
{
    private readonly string _destination;
    private readonly bool _directory;
    private bool _committed;

    private StagedOutput(string destination, bool directory)
    {
        _destination = System.IO.Path.GetFullPath(destination);
        _directory = directory;
        var parent = System.IO.Path.GetDirectoryName(_destination) ?? ".";
        Directory.CreateDirectory(parent);
        Path = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(_destination)}.partial-{Environment.ProcessId}-{Guid.NewGuid():N}");
        if (directory) Directory.CreateDirectory(Path);
    }

    /// <summary>Where to write: a temporary folder (or file) beside the destination.</summary>
    public string Path { get; }

    public static StagedOutput Folder(string destination) => new(destination, directory: true);

    public static StagedOutput File(string destination) => new(destination, directory: false);

    /// <summary>Moves the finished output into place, replacing an earlier one.</summary>
    public void Commit()
    {
        if (_directory)
        {
            string? old = null;
            if (Directory.Exists(_destination))
            {
                old = _destination + $".old-{Guid.NewGuid():N}";
                Directory.Move(_destination, old);
            }
            else if (System.IO.File.Exists(_destination))
            {
                throw new IOException($"{_destination} is a file; the output is a folder.");
            }

            Directory.Move(Path, _destination);
            if (old is not null) Directory.Delete(old, recursive: true);
        }
        else
        {
            System.IO.File.Move(Path, _destination, overwrite: true);
        }

        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        try
        {
            if (_directory && Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
            else if (!_directory && System.IO.File.Exists(Path)) System.IO.File.Delete(Path);
        }
        catch (IOException)
        {
            // Best effort: a temporary name never looks like a finished data set.
        }
    }
}
