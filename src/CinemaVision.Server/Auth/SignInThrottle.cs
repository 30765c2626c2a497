using System.Collections.Concurrent;
using CinemaVision.Server.Configuration;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Auth;

/// <summary>
/// Slows password guessing, per user name and per client address. A few wrong passwords are free; after that each
/// failure doubles the wait (1 s, 2 s, 4 s ... up to <see cref="SecurityOptions.MaxLockoutSeconds"/>) and sign-in is
/// answered 429 with Retry-After before any password is checked. Unknown user names are counted like known ones, so
/// throttling does not tell which exist. A success clears the user name's count (not the address's). Failures are
/// forgotten after <see cref="SecurityOptions.FailureWindowMinutes"/> without one. Kept in memory and bounded in
/// size (the oldest entries go first); a restart forgets it, which an attacker cannot cause.
/// </summary>
public sealed class SignInThrottle
{
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly SecurityOptions _options;
    private readonly TimeProvider _time;

    public SignInThrottle(IOptions<ServerOptions> options, TimeProvider time)
    {
        _options = options.Value.Security;
        _time = time;
    }

    /// <summary>How long the caller must wait before trying again, or null when a try is allowed now.</summary>
    public TimeSpan? Wait(string userName, string address)
    {
        var now = _time.GetUtcNow();
        var wait = TimeSpan.Zero;
        var (userKey, addressKey) = Keys(userName, address);
        foreach (var key in new[] { userKey, addressKey })
        {
            if (_entries.TryGetValue(key, out var e) && e.BlockedUntil > now && e.BlockedUntil - now > wait)
            {
                wait = e.BlockedUntil - now;
            }
        }

        return wait > TimeSpan.Zero ? wait : null;
    }

    public void Failed(string userName, string address)
    {
        var now = _time.GetUtcNow();
        if (_entries.Count >= MaxEntries)
        {
            foreach (var old in _entries.OrderBy(kv => kv.Value.LastFailure).Take(MaxEntries / 10).ToList())
            {
                _entries.TryRemove(old.Key, out _);
            }
        }

        var (userKey, addressKey) = Keys(userName, address);
        Bump(userKey, _options.FreeAttemptsPerUser, now);
        Bump(addressKey, _options.FreeAttemptsPerAddress, now);
    }

    public void Succeeded(string userName) => _entries.TryRemove(Keys(userName, "").User, out _);

    private void Bump(string key, int free, DateTimeOffset now) => _entries.AddOrUpdate(
        key,
        _ => Next(new Entry(0, now, DateTimeOffset.MinValue), free, now),
        (_, e) => Next(now - e.LastFailure > TimeSpan.FromMinutes(_options.FailureWindowMinutes) ? new Entry(0, now, DateTimeOffset.MinValue) : e, free, now));

    private Entry Next(Entry e, int free, DateTimeOffset now)
    {
        var failures = e.Failures + 1;
        var over = failures - free;
        var blocked = over <= 0 ? DateTimeOffset.MinValue : now + TimeSpan.FromSeconds(Math.Min(_options.MaxLockoutSeconds, Math.Pow(2, Math.Min(over - 1, 30))));
        return new Entry(failures, now, blocked);
    }

    private static (string User, string Address) Keys(string userName, string address) =>
        ("u:" + userName.Trim().ToUpperInvariant(), "a:" + address);

    private sealed record Entry(int Failures, DateTimeOffset LastFailure, DateTimeOffset BlockedUntil);
}
