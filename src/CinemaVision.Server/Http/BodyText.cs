using System.Text;

namespace CinemaVision.Server.Http;

/// <summary>Reads a text body up to a limit, so an endpoint that parses text itself cannot be fed gigabytes.</summary>
public static class BodyText
{
    /// <summary>The body as UTF-8 text, or null when it is longer than <paramref name="maxBytes"/> (answer 413).</summary>
    public static async Task<string?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static IResult TooLarge(string what, long maxBytes) =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"{what} too large", detail: $"body: at most {maxBytes} bytes are accepted. Nothing was stored.");
}
