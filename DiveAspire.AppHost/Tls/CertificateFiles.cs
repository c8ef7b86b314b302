using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DiveAspire.AppHost.Tls;

/// <summary>PEM files of a certificate (readable) and its private key (0600, via <see cref="PrivateFile"/>), in a 0700 directory.</summary>
internal static class CertificateFiles
{
    public static X509Certificate2? TryLoad(string certificatePath, string keyPath)
    {
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            return null;
        }
        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    public static void Write(string certificatePath, string keyPath, X509Certificate2 certificate, ECDsa key)
    {
        // The key first: a certificate never sits next to a key that is not its own.
        PrivateFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
    }

    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
