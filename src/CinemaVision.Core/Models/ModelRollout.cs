namespace CinemaVision.Core.Models;

/// <summary>What an agent runs for one auditorium and what the centre assigned.</summary>
/// <param name="Running">The version in use (null = the shipped default).</param>
/// <param name="Previous">The version used before <paramref name="Running"/>, kept on disk for roll-back.</param>
/// <param name="FailedSha256">Files that failed to load here: never retried until the centre assigns other bytes.</param>
public sealed record RolloutState(ModelVersionRef? Running, ModelVersionRef? Previous, IReadOnlySet<string> FailedSha256);

/// <summary>A model version by name, version and content hash.</summary>
public sealed record ModelVersionRef(string Name, string Version, string Sha256);

/// <summary>The next step an agent takes for an auditorium's model.</summary>
public enum RolloutAction
{
    /// <summary>Nothing to do: the assigned version runs (or it failed before and is not retried).</summary>
    Keep,

    /// <summary>Download the assigned file to a staging name, check its sha256, then load it beside the running model.</summary>
    DownloadAndStage,

    /// <summary>The staged file is verified and loaded: switch to it, keep the old one as the roll-back.</summary>
    Switch,

    /// <summary>The staged file failed (hash or load): delete it, keep running the current one, report "failed".</summary>
    Discard,

    /// <summary>The switched-to model fails at run time: go back to the previous version, report "rolled-back".</summary>
    RollBack,
}

/// <summary>
/// The agent's model roll-out rules, pure: pull the version assigned to the auditorium, verify its hash, stage and
/// load it before switching, and roll back to the previous version when the new one fails. The agent does the I/O
/// (GET /api/v1/agent/models, the file, POST /api/v1/agent/models/status) and asks these rules what to do.
/// </summary>
public static class ModelRollout
{
    /// <summary>The step for an assignment (null = the centre assigns nothing: keep what runs).</summary>
    public static RolloutAction Next(RolloutState state, ModelVersionRef? assigned)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (assigned is null) return RolloutAction.Keep;
        if (state.Running is { } running && string.Equals(running.Sha256, assigned.Sha256, StringComparison.OrdinalIgnoreCase)) return RolloutAction.Keep;
        return state.FailedSha256.Contains(assigned.Sha256) ? RolloutAction.Keep : RolloutAction.DownloadAndStage;
    }

    /// <summary>After staging: switch when the downloaded bytes have the assigned hash and the model loaded, else discard.</summary>
    public static (RolloutAction Action, RolloutState State) Staged(RolloutState state, ModelVersionRef assigned, string downloadedSha256, bool loaded)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(assigned);
        bool hashOk = string.Equals(downloadedSha256, assigned.Sha256, StringComparison.OrdinalIgnoreCase);
        if (hashOk && loaded) return (RolloutAction.Switch, state with { Previous = state.Running, Running = assigned });
        // A corrupt download is retried on the next poll; bytes that do not load are not.
        return (RolloutAction.Discard, hashOk ? state with { FailedSha256 = new HashSet<string>(state.FailedSha256, StringComparer.OrdinalIgnoreCase) { assigned.Sha256 } } : state);
    }

    /// <summary>The running model failed (inference errors after the switch): back to the previous version.</summary>
    public static (RolloutAction Action, RolloutState State) Failed(RolloutState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Running is not { } failed) return (RolloutAction.Keep, state);
        var blocked = new HashSet<string>(state.FailedSha256, StringComparer.OrdinalIgnoreCase) { failed.Sha256 };
        return (RolloutAction.RollBack, new RolloutState(state.Previous, null, blocked));
    }
}
