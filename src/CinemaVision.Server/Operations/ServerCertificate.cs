using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CinemaVision.Server.Operations;

/// <summary>
/// The service's own TLS certificate, used when an https endpoint is configured without one: generated once
/// (ECDSA P-256, self-signed, five years, naming localhost, this machine and <c>CinemaVision:Https:CertificateHosts</c>),
/// kept in <c>DATA/tls/server.pfx</c> readable by the service's user only, with its public part in
/// <c>certificate.pem</c> and its SHA-256 fingerprint in <c>certificate.sha256</c>. Agents pin that fingerprint
/// (their setting <c>centralCertificateSha256</c>), so no certificate authority is needed and a man in the middle
/// with any other certificate is refused. Backups carry the folder, so a restored service keeps its identity.
/// </summary>
public static class ServerCertificate
{
    public const string Folder = "tls";
    public const string PfxFile = "server.pfx";
    public const string FingerprintFile = "certificate.sha256";

    public static X509Certificate2 LoadOrCreate(string dataDirectory, IEnumerable<string> hosts, out bool created)
    {
        var folder = Path.Combine(Path.GetFullPath(dataDirectory), Folder);
        var pfx = Path.Combine(folder, PfxFile);
        created = false;
        if (!File.Exists(pfx))
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(pfx, Create(hosts));
            Restrict(pfx);
            created = true;
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfx, null, X509KeyStorageFlags.EphemeralKeySet);
        File.WriteAllText(Path.Combine(folder, FingerprintFile), Fingerprint(certificate) + Environment.NewLine);
        File.WriteAllText(Path.Combine(folder, "certificate.pem"), certificate.ExportCertificatePem() + Environment.NewLine);
        return certificate;
    }

    /// <summary>SHA-256 of the certificate (DER), upper-case hex: what <c>openssl x509 -fingerprint -sha256</c> shows without colons.</summary>
    public static string Fingerprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    private static byte[] Create(IEnumerable<string> hosts)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=CinemaVision central service", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        var machine = Dns.GetHostName();
        if (Uri.CheckHostName(machine) == UriHostNameType.Dns)
        {
            names.AddDnsName(machine);
        }

        foreach (var host in hosts.Where(h => !string.IsNullOrWhiteSpace(h)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var ip)) names.AddIpAddress(ip);
            else names.AddDnsName(host);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        return certificate.Export(X509ContentType.Pfx);
    }

    private static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
