namespace CinemaVision.Server.Tests.Infrastructure;

/// <summary>Small, complete images built byte by byte (no image library): headers the service reads, as real encoders write them.</summary>
public static class TestImages
{
    /// <summary>A baseline JPEG of the given size: SOI, APP0, SOF0 with the size, and EOI (enough for type and size checks).</summary>
    public static byte[] Jpeg(int width, int height)
    {
        byte[] header = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
        byte[] sof = [0xFF, 0xC0, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01];
        var body = new byte[512];
        new Random(width * 31 + height).NextBytes(body);
        for (var i = 0; i < body.Length; i++) if (body[i] == 0xFF) body[i] = 0xFE;
        return [.. header, .. sof, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, .. body, 0xFF, 0xD9];
    }
}
