import Dispatch
import HummingbirdBcrypt
import VPPUseCases

/// bcrypt (hummingbird-auth) as the console's slow password hash. Each hash or check runs on a Dispatch
/// queue, not on Swift's few cooperative threads or NIO's event loops, which it would otherwise block.
public struct BcryptPasswordHasher: PasswordHasher {
    /// 2^cost rounds; 12 takes about a quarter of a second, the usual choice for interactive sign-in.
    public let cost: UInt8

    public init(cost: UInt8 = 12) { self.cost = cost }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Bcrypt.hash(password, cost: cost)) }
        }
    }

    public func verify(_ password: String, hash: String) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Bcrypt.verify(password, hash: hash)) }
        }
    }
}
