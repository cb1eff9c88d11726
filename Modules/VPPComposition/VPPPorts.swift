import Foundation
import Logging
import VPPDomain
import VPPUseCases

/// The ports the composition root builds use cases from: the database, Apple, the key, the clock, the mailer
/// and the logger. Only composition (``UseCases``, ``VPPRuntime``) and the apps hold it; use cases take the
/// ports they use through their designated initialisers.
public struct VPPPorts: Sendable {
    public let store: any Store
    public let apple: any AppleAppsAndBooks
    public let metadata: (any AppMetadataLookup)?
    public let secrets: any SecretBox
    public let clock: any Clock
    public let mailer: (any Mailer)?
    public let logger: Logger

    public init(
        store: any Store,
        apple: any AppleAppsAndBooks,
        metadata: (any AppMetadataLookup)?,
        secrets: any SecretBox,
        clock: any Clock,
        mailer: (any Mailer)?,
        logger: Logger
    ) {
        self.store = store
        self.apple = apple
        self.metadata = metadata
        self.secrets = secrets
        self.clock = clock
        self.mailer = mailer
        self.logger = logger
    }

    /// The same ports with another Apple client, metadata lookup and mailer (the demo's in-process simulator).
    public func replacing(
        apple: any AppleAppsAndBooks,
        metadata: (any AppMetadataLookup)?,
        mailer: (any Mailer)?
    ) -> VPPPorts {
        VPPPorts(
            store: store,
            apple: apple,
            metadata: metadata,
            secrets: secrets,
            clock: clock,
            mailer: mailer,
            logger: logger
        )
    }
}
