using CinemaVision.Core.Pipeline;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Operations;

namespace CinemaVision.Edge.Analysis;

/// <summary>
/// Shares the CPU budget between cameras. Analyses run single-threaded, at most one per budgeted core at a time;
/// occupancy passes are served before watching passes and always wait for their turn, while a watching pass that
/// cannot start soon, or would start while the agent (with its decoders) is already above its budget, is skipped and
/// counted: the next one takes the newest frame anyway.
/// </summary>
public sealed class AnalysisScheduler
{
    private readonly object _gate = new();
    private readonly Queue<TaskCompletionSource<bool>> _occupancy = new();
    private readonly Queue<TaskCompletionSource<bool>> _watch = new();
    private readonly double _budget;
    private readonly CpuMeter _cpu;
    private int _free;

    public AnalysisScheduler(AgentOptions options, CpuMeter cpu)
    {
        _budget = options.CpuBudget;
        _cpu = cpu;
        Slots = Math.Max(1, (int)Math.Ceiling(options.CpuBudget - 0.25));
        _free = Slots;
    }

    /// <summary>Analyses that may run at once.</summary>
    public int Slots { get; }

    /// <summary>True while the agent uses more than its budget.</summary>
    public bool OverBudget => _cpu.Cores > _budget;

    /// <summary>
    /// Waits for a slot. Occupancy and health passes always get one (in turn); a watching pass gets null when the budget
    /// is spent or no slot frees within <paramref name="maxWait"/>.
    /// </summary>
    public async Task<IDisposable?> AcquireAsync(PassKind pass, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (pass == PassKind.Watch && OverBudget) return null;
        TaskCompletionSource<bool> ticket;
        lock (_gate)
        {
            if (_free > 0 && (pass != PassKind.Watch || _occupancy.Count == 0))
            {
                _free--;
                return new Slot(this);
            }

            ticket = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            (pass == PassKind.Watch ? _watch : _occupancy).Enqueue(ticket);
        }

        using var timeout = pass == PassKind.Watch ? new CancellationTokenSource(maxWait) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        using (linked.Token.Register(() => ticket.TrySetResult(false)))
        {
            if (await ticket.Task.ConfigureAwait(false)) return new Slot(this);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return null;
    }

    private void Release()
    {
        lock (_gate)
        {
            // Hand the slot to the next waiter that still wants it: occupancy first.
            while (_occupancy.TryDequeue(out var next) || _watch.TryDequeue(out next))
            {
                if (next.TrySetResult(true)) return;
            }

            _free++;
        }
    }

    private sealed class Slot(AnalysisScheduler owner) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) owner.Release();
        }
    }
}
