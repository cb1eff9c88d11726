import Crypto
import Foundation
import VPPUseCases

/// The key file of the embedded default: created on first run with 32 random bytes, mode 0600.
public enum EncryptionKeyFile {
    /// Reads the Base64 key at `path`, creating the file (and its folder) when it does not exist.
    /// - Returns: the key bytes and whether the file was created now.
    public static func loadOrCreate(at path: String) throws -> (key: [UInt8], created: Bool) {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: path) { return (try load(at: path), false) }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try fileManager.createDirectory(
                atPath: folder,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let text = Data(key).base64EncodedString() + "\n"
        // Create with 0600 from the start: the key is never readable by others, not even for a moment.
        guard fileManager.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw SecretBoxError.badKey("cannot create the key file \(path)")
        }
        return (key, true)
    }

    /// Reads a Base64 key file (as given in `VPP_ENCRYPTION_KEY_FILE`).
    public static func load(at path: String) throws -> [UInt8] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SecretBoxError.badKey("cannot read the key file \(path)")
        }
        return try decode(text, source: "the key file \(path)")
    }

    /// Decodes a Base64 key of 32 bytes; `source` names where it came from in the error (never the key).
    public static func decode(_ text: String, source: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else {
            throw SecretBoxError.badKey("\(source) does not hold Base64 of 32 bytes")
        }
        return Array(data)
    }
}
