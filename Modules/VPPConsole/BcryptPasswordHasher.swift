import Dispatch
import HummingbirdBcrypt
import VPPUseCases

/// bcrypt (hummingbird-auth) as the console's slow password hash. Each hash or check runs on a Dispatch
/// queue, not on Swift's few cooperative threads or NIO's event loops, which it would otherwise block, and
/// in one of a few ``HashSlots`` shared by the process, so a burst of sign-ins cannot take every core.
public struct BcryptPasswordHasher: PasswordHasher {
    /// 2^cost rounds; 12 takes about a quarter of a second, the usual choice for interactive sign-in.
    public let cost: UInt8
    public let slots: HashSlots

    public init(cost: UInt8 = 12, slots: HashSlots = .shared) {
        self.cost = cost
        self.slots = slots
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return await slots.run {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: Bcrypt.hash(password, cost: cost)) }
            }
        }
    }

    public func verify(_ password: String, hash: String) async -> Bool {
        await slots.run {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: Bcrypt.verify(password, hash: hash)) }
            }
        }
    }
}
