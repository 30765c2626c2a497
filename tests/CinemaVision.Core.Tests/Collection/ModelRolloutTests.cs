using CinemaVision.Core.Models;

namespace CinemaVision.Core.Tests.Collection;

public class ModelRolloutTests
{
    private static readonly ModelVersionRef V1 = new("hall_heads", "1", "aaa");
    private static readonly ModelVersionRef V2 = new("hall_heads", "2", "bbb");
    private static RolloutState Running(ModelVersionRef? v) => new(v, null, new HashSet<string>());

    [Fact]
    public void Assigned_New_Version_IsStagedThenSwitchedKeepingTheOldForRollBack()
    {
        var state = Running(V1);
        Assert.Equal(RolloutAction.DownloadAndStage, ModelRollout.Next(state, V2));
        var (action, next) = ModelRollout.Staged(state, V2, "bbb", loaded: true);
        Assert.Equal(RolloutAction.Switch, action);
        Assert.Equal((V2, V1), (next.Running, next.Previous));
        Assert.Equal(RolloutAction.Keep, ModelRollout.Next(next, V2));
    }

    [Fact]
    public void CorruptDownload_IsDiscardedAndRetried_ButAFileThatDoesNotLoadIsNot()
    {
        var state = Running(V1);
        var (a1, s1) = ModelRollout.Staged(state, V2, "ccc", loaded: false);
        Assert.Equal((RolloutAction.Discard, V1), (a1, s1.Running));
        Assert.Equal(RolloutAction.DownloadAndStage, ModelRollout.Next(s1, V2));

        var (a2, s2) = ModelRollout.Staged(state, V2, "bbb", loaded: false);
        Assert.Equal((RolloutAction.Discard, V1), (a2, s2.Running));
        Assert.Equal(RolloutAction.Keep, ModelRollout.Next(s2, V2));
    }

    [Fact]
    public void RunningModelFails_RollsBackToThePrevious_AndIsNotPulledAgain()
    {
        var (_, switched) = ModelRollout.Staged(Running(V1), V2, "bbb", loaded: true);
        var (action, back) = ModelRollout.Failed(switched);
        Assert.Equal(RolloutAction.RollBack, action);
        Assert.Equal(V1, back.Running);
        Assert.Equal(RolloutAction.Keep, ModelRollout.Next(back, V2));
        Assert.Equal(RolloutAction.DownloadAndStage, ModelRollout.Next(back, V2 with { Version = "3", Sha256 = "ddd" }));
    }
}
