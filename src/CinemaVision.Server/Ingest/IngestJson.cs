using System.Text.Json;
using System.Text.Json.Serialization;

namespace CinemaVision.Server.Ingest;

/// <summary>The wire format: camelCase, enums as names (numbers accepted), explicit nulls checked against the contracts.</summary>
public static class IngestJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    public static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            RespectNullableAnnotations = true,
            MaxDepth = 16,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
