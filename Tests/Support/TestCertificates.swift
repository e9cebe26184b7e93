import Foundation

/// A throwaway certificate authority and a server certificate it signed for 127.0.0.1 and
/// localhost, made with the `openssl` command in a temporary folder: what a private CA looks
/// like to a client that is given the CA file.
public struct TestCertificates: Sendable {
    /// The folder holding the files.
    public let directory: String
    /// The CA's certificate (PEM): what `ALERT_CA_FILE` names.
    public var caFile: String { directory + "/ca.pem" }
    /// The server's certificate chain (PEM).
    public var serverCertificate: String { directory + "/server.pem" }
    /// The server's private key (PEM).
    public var serverKey: String { directory + "/server.key" }

    /// Makes a CA and a server certificate, valid for a day.
    public static func make() async throws -> TestCertificates {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitbrain-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let extensions = dir + "/server.ext"
        try
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem", "-days", "1",
                "-subj", "/CN=ExitBrain Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=127.0.0.1"],
            [
                "x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key", "-CAcreateserial",
                "-out", dir + "/server.pem", "-days", "1", "-extfile", extensions,
            ],
        ]
        for args in steps {
            let (status, output) = try await TestProcess.run("openssl", args, timeout: .seconds(60))
            guard status == 0 else { throw TestProcess.Failure("openssl \(args[0]) failed (\(status)): \(output)") }
        }
        return TestCertificates(directory: dir)
    }

    /// Removes the files.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
