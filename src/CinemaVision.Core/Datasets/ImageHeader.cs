using System.Buffers.Binary;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>
/// Reads an image's size from its first bytes (PNG, JPEG, BMP, WebP VP8/VP8L/VP8X), so converting labels of
/// thousands of images does not decode thousands of images.
/// </summary>
public static class ImageHeader
{
    /// <summary>How many leading bytes are enough for <see cref="TryReadSize"/> in practice (JPEG may need more for large EXIF blocks).</summary>
    public const int PrefixLength = 256 * 1024;

    public static SizeI? TryReadSize(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 24 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G')
        {
            return new SizeI(BinaryPrimitives.ReadInt32BigEndian(data[16..]), BinaryPrimitives.ReadInt32BigEndian(data[20..]));
        }

        if (data.Length >= 26 && data[0] == 'B' && data[1] == 'M')
        {
            return new SizeI(BinaryPrimitives.ReadInt32LittleEndian(data[18..]), Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(data[22..])));
        }

        if (data.Length >= 30 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8))
        {
            var chunk = data[12..16];
            if (chunk.SequenceEqual("VP8 "u8)) return new SizeI(BinaryPrimitives.ReadUInt16LittleEndian(data[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(data[28..]) & 0x3FFF);
            if (chunk.SequenceEqual("VP8L"u8))
            {
                uint bits = BinaryPrimitives.ReadUInt32LittleEndian(data[21..]);
                return new SizeI((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
            }

            if (chunk.SequenceEqual("VP8X"u8)) return new SizeI((data[24] | (data[25] << 8) | (data[26] << 16)) + 1, (data[27] | (data[28] << 8) | (data[29] << 16)) + 1);
        }

        if (data.Length >= 4 && data[0] == 0xFF && data[1] == 0xD8)
        {
            int i = 2;
            while (i + 9 < data.Length)
            {
                if (data[i] != 0xFF)
                {
                    i++;
                    continue;
                }

                byte marker = data[i + 1];
                if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7) or 0xFF)
                {
                    i += marker == 0xFF ? 1 : 2;
                    continue;
                }

                int length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
                // Start-of-frame markers (baseline, progressive, ...) carry the size; C4, C8 and CC are not frames.
                if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                {
                    return new SizeI(BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]));
                }

                i += 2 + length;
            }
        }

        return null;
    }
}
