using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Xml;

namespace CinemaVision.Server.Dashboard.Export;

/// <summary>
/// A table as shown on a page, ready to export: typed cells (numbers stay numbers, instants are the site's local
/// time) so a spreadsheet can sort and sum them. <see cref="DateTime"/> cells are wall-clock times at the site.
/// </summary>
public sealed record ExportTable(string Name, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<object?>> Rows)
{
    /// <summary>CSV (RFC 4180) in UTF-8 with a byte-order mark so spreadsheet programs read Chinese text right.</summary>
    public byte[] ToCsv()
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', Headers.Select(Quote)).Append("\r\n");
        foreach (var row in Rows)
        {
            sb.AppendJoin(',', row.Select(c => Quote(CsvCell(c)))).Append("\r\n");
        }

        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())];
    }

    /// <summary>
    /// An Office Open XML workbook (.xlsx) with one sheet: bold frozen header, auto-filter, numbers and dates as typed
    /// cells. Written directly (a handful of XML parts in a zip) so no spreadsheet library is needed.
    /// </summary>
    public byte[] ToXlsx()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Part(zip, "[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
                <Default Extension="xml" ContentType="application/xml"/>
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
                <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
                <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
                </Types>
                """);
            Part(zip, "_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
                <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
                </Relationships>
                """);
            Part(zip, "docProps/core.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>CinemaVision</dc:creator></cp:coreProperties>
                """);
            Part(zip, "xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
                <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
                </Relationships>
                """);
            Part(zip, "xl/workbook.xml", $"""
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
                <sheets><sheet name="{SecurityElementEscape(SheetName(Name))}" sheetId="1" r:id="rId1"/></sheets>
                </workbook>
                """);
            // Styles: 0 default, 1 bold header, 2 date-time (yyyy-mm-dd hh:mm), 3 two decimals, 4 percent.
            Part(zip, "xl/styles.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
                <numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd hh:mm"/></numFmts>
                <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
                <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
                <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
                <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
                <cellXfs count="5">
                <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
                <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
                <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
                <xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
                <xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
                </cellXfs>
                <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
                </styleSheet>
                """);
            var entry = zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.Optimal);
            using var stream = entry.Open();
            WriteSheet(stream);
        }

        return buffer.ToArray();
    }

    private void WriteSheet(Stream stream)
    {
        const string Ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        using var w = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false) });
        w.WriteStartDocument(true);
        w.WriteStartElement("worksheet", Ns);
        w.WriteStartElement("sheetViews", Ns);
        w.WriteStartElement("sheetView", Ns);
        w.WriteAttributeString("workbookViewId", "0");
        w.WriteStartElement("pane", Ns);
        w.WriteAttributeString("ySplit", "1");
        w.WriteAttributeString("topLeftCell", "A2");
        w.WriteAttributeString("activePane", "bottomLeft");
        w.WriteAttributeString("state", "frozen");
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteStartElement("cols", Ns);
        for (int c = 0; c < Headers.Count; c++)
        {
            int width = Math.Clamp(Rows.Take(200).Select(r => c < r.Count ? CsvCell(r[c]).Length : 0).Append(Headers[c].Length * 2).Max() + 2, 8, 60);
            w.WriteStartElement("col", Ns);
            w.WriteAttributeString("min", (c + 1).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("max", (c + 1).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("width", width.ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("customWidth", "1");
            w.WriteEndElement();
        }

        w.WriteEndElement();
        w.WriteStartElement("sheetData", Ns);
        WriteRow(w, 1, Headers.Cast<object?>().ToList(), header: true);
        for (int r = 0; r < Rows.Count; r++) WriteRow(w, r + 2, Rows[r], header: false);
        w.WriteEndElement();
        w.WriteStartElement("autoFilter", Ns);
        w.WriteAttributeString("ref", $"A1:{Column(Headers.Count - 1)}{Rows.Count + 1}");
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndDocument();
    }

    private static void WriteRow(XmlWriter w, int index, IReadOnlyList<object?> cells, bool header)
    {
        const string Ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        w.WriteStartElement("row", Ns);
        w.WriteAttributeString("r", index.ToString(CultureInfo.InvariantCulture));
        for (int c = 0; c < cells.Count; c++)
        {
            var value = cells[c];
            if (value is null) continue;
            w.WriteStartElement("c", Ns);
            w.WriteAttributeString("r", Column(c) + index.ToString(CultureInfo.InvariantCulture));
            switch (value)
            {
                case DateTime dt:
                    w.WriteAttributeString("s", "2");
                    w.WriteElementString("v", Ns, dt.ToOADate().ToString("R", CultureInfo.InvariantCulture));
                    break;
                case double or float or decimal or int or long:
                    var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                    if (value is double or float or decimal) w.WriteAttributeString("s", "3");
                    w.WriteElementString("v", Ns, number.ToString("R", CultureInfo.InvariantCulture));
                    break;
                case ExportPercent p:
                    w.WriteAttributeString("s", "4");
                    w.WriteElementString("v", Ns, p.Fraction.ToString("R", CultureInfo.InvariantCulture));
                    break;
                default:
                    w.WriteAttributeString("t", "inlineStr");
                    if (header) w.WriteAttributeString("s", "1");
                    w.WriteStartElement("is", Ns);
                    w.WriteStartElement("t", Ns);
                    w.WriteAttributeString("xml", "space", null, "preserve");
                    w.WriteString(Clean(value.ToString() ?? ""));
                    w.WriteEndElement();
                    w.WriteEndElement();
                    break;
            }

            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    private static string CsvCell(object? value) => value switch
    {
        null => "",
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        ExportPercent p => p.Fraction.ToString("0.####", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Quote(string s)
    {
        // A leading = + - @ would be run as a formula by spreadsheet programs (CSV injection).
        if (s.Length > 0 && s[0] is '=' or '+' or '@' or '\t' or '\r' || (s.Length > 1 && s[0] == '-' && !char.IsDigit(s[1]))) s = "'" + s;
        return s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
    }

    /// <summary>Characters XML 1.0 cannot hold are dropped.</summary>
    private static string Clean(string s) => string.Concat(s.Where(ch => ch is '\t' or '\n' or '\r' || (ch >= 0x20 && ch != 0xFFFE && ch != 0xFFFF)));

    private static string Column(int index)
    {
        var name = "";
        for (int n = index + 1; n > 0; n = (n - 1) / 26) name = (char)('A' + ((n - 1) % 26)) + name;
        return name;
    }

    private static string SheetName(string name)
    {
        var cleaned = new string([.. name.Where(ch => ch is not ('\\' or '/' or '?' or '*' or '[' or ']' or ':'))]);
        return cleaned.Length == 0 ? "Sheet1" : cleaned[..Math.Min(31, cleaned.Length)];
    }

    private static string SecurityElementEscape(string s) => System.Security.SecurityElement.Escape(s) ?? s;

    private static void Part(ZipArchive zip, string path, string xml)
    {
        var entry = zip.CreateEntry(path, CompressionLevel.Optimal);
        using var stream = entry.Open();
        var bytes = new UTF8Encoding(false).GetBytes(xml.Trim());
        stream.Write(bytes);
    }
}

/// <summary>A fraction shown as a percentage in exports (0.42 → 42 %).</summary>
public readonly record struct ExportPercent(double Fraction)
{
    public override string ToString() => Fraction.ToString("P1", CultureInfo.InvariantCulture);
}
