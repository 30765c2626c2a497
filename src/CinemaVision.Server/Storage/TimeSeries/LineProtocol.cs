using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace CinemaVision.Server.Storage.TimeSeries;

/// <summary>
/// What InfluxDB line protocol can and cannot carry, in one place. Tag values have their commas, equals signs and
/// spaces escaped (by <c>PointData</c>), but a backslash cannot be carried the same way by every server (1.x keeps
/// <c>\\</c> as two characters and a trailing one swallows the separator), nor can a line break: such values are
/// refused here, before they poison a write of many points. Ingest refuses them earlier still.
/// </summary>
public static class LineProtocol
{
    /// <summary>The value itself, when a tag may carry it.</summary>
    /// <exception cref="LineProtocolException">Empty, or holds a backslash or a control character.</exception>
    public static string Tag(string value)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new LineProtocolException("an empty tag value");
        }

        foreach (var c in value)
        {
            if (c == '\\' || char.IsControl(c))
            {
                throw new LineProtocolException($"the tag value '{Printable(value)}' holds a {(c == '\\' ? "backslash" : "control character")}, which line protocol cannot carry");
            }
        }

        return value;
    }

    /// <summary>
    /// The point time in nanoseconds: the millisecond of <paramref name="timestamp"/> plus an offset below one
    /// millisecond fixed by <paramref name="id"/>. Distinct items at the same millisecond get distinct points; the
    /// same item always gets the same one, so a replay overwrites itself.
    /// </summary>
    public static long Nanoseconds(DateTimeOffset timestamp, string id)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(id), hash);
        var offset = (long)(BinaryPrimitives.ReadUInt64LittleEndian(hash) % 1_000_000UL);
        return (timestamp.ToUnixTimeMilliseconds() * 1_000_000L) + offset;
    }

    private static string Printable(string value) => string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}

/// <summary>An event that cannot be written as line protocol: a permanent error for that event.</summary>
public sealed class LineProtocolException : Exception
{
    public LineProtocolException(string message)
        : base(message)
    {
    }

    public LineProtocolException()
    {
    }

    public LineProtocolException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>How one write attempt went (see <see cref="InfluxTimeSeriesStore.TryWriteLinesAsync"/>).</summary>
public enum InfluxWriteResult
{
    Written = 0,

    /// <summary>4xx for the points (400, 413, 422): at least one of them will never be taken.</summary>
    Rejected = 1,

    /// <summary>401, 403, 404: credentials, database or mapping are wrong; the points are not to blame.</summary>
    Misconfigured = 2,

    /// <summary>Timeout, connection error, 5xx or 429: try again later.</summary>
    Transient = 3,
}

public sealed record InfluxWriteOutcome(InfluxWriteResult Result, int Status, string? Error, TimeSpan? RetryAfter);
