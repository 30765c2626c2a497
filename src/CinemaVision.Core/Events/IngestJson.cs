using System.Text.Json;
using System.Text.Json.Serialization;

namespace CinemaVision.Core.Events;

/// <summary>
/// The wire format agents and the centre share (one definition): camelCase, enums as names (numbers accepted),
/// explicit nulls checked against the contracts, and each event's <c>"type"</c> discriminator accepted wherever it
/// appears in the object (hand-written JSON need not put it first).
/// </summary>
public static class IngestJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    public static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            RespectNullableAnnotations = true,
            AllowOutOfOrderMetadataProperties = true,
            MaxDepth = 16,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>One event as it travels and as the agent's outbox keeps it (with its <c>"type"</c>).</summary>
    public static string Serialize(EdgeEvent e) => JsonSerializer.Serialize(e, Options);

    /// <summary>Reads one event written by <see cref="Serialize"/>.</summary>
    /// <exception cref="JsonException">The text is not an event (bad JSON, unknown or missing type).</exception>
    public static EdgeEvent Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<EdgeEvent>(json, Options) ?? throw new JsonException("The event is the JSON literal null.");
        }
        catch (NotSupportedException ex)
        {
            throw new JsonException($"The event has no \"{EdgeEvent.TypeProperty}\" (one of {string.Join(", ", EventTypes.All)}).", ex);
        }
    }
}
