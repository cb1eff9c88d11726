import Foundation
import Testing
import VPPDomain
import VPPUseCases

@testable import VPPAppleClient

/// The example payloads printed in the Apple API reference (from Apple's documentation) decode as expected.
@Suite("Decoding Apple's documented examples")
struct DecodingTests {
    @Test("ResponseAsset example")
    func asset() throws {
        let json =
            #"{"adamId":"408709785","assignedCount":5000,"availableCount":10000,"deviceAssignable":true,"pricingParam":"STDQ","productType":"App","retiredCount":0,"revocable":true,"supportedPlatforms":["iOS"],"totalCount":15000}"#
        let record = try HTTPAppleAppsAndBooksClient.assetRecord(
            JSONDecoder().decode(WireAsset.self, from: Data(json.utf8))
        )
        #expect(record.asset.key == AssetKey(adamID: "408709785", pricingParam: .standard))
        #expect(record.asset.productType == .app && record.asset.isDeviceAssignable && record.asset.isRevocable)
        #expect(record.asset.platforms == [.iOS])
        #expect(record.counts == (try LicenceCounts(total: 15000, assigned: 5000, available: 10000)))
    }

    @Test("an unlimited asset without counts is unlimited")
    func unlimited() throws {
        let json =
            #"{"adamId":"1","assignedCount":3,"deviceAssignable":true,"pricingParam":"STDQ","productType":"App","revocable":true,"supportedPlatforms":["iOS","macOS"]}"#
        let record = try HTTPAppleAppsAndBooksClient.assetRecord(
            JSONDecoder().decode(WireAsset.self, from: Data(json.utf8))
        )
        #expect(record.counts.isUnlimited && record.asset.platforms == [.iOS, .macOS])
    }

    @Test("StatusResponse FAILED example")
    func failedStatus() throws {
        let json =
            #"{"eventStatus":"FAILED","eventType":"ASSOCIATE","failures":[{"errorInfo":{"clientUserIds":["client-4"]},"errorNumber":9609,"errorMessage":"Registered user not found"}],"numCompleted":14,"numRequested":16,"tokenExpirationDate":"2030-11-08T22:33:22+0000","uId":"2049025000431439"}"#
        let wire = try JSONDecoder().decode(WireStatus.self, from: Data(json.utf8))
        #expect(wire.eventStatus == "FAILED" && wire.numCompleted == 14 && wire.numRequested == 16)
        #expect(
            wire.failures?.first?.errorNumber == 9609 && wire.failures?.first?.errorInfo?.clientUserIds == ["client-4"]
        )
        let envelope = try JSONDecoder().decode(WireEnvelope.self, from: Data(json.utf8))
        #expect(envelope.uId == "2049025000431439")
        #expect(
            envelope.tokenExpirationDate.flatMap(ISO8601Timestamp.parse)
                == ISO8601Timestamp.parse("2030-11-08T22:33:22Z")
        )
    }

    @Test("EventResponse and ClientConfigRequest examples")
    func eventAndConfig() throws {
        let event =
            #"{"eventId":"954910a8-1111-2222-3333-444455556666","tokenExpirationDate":"2030-11-08T22:33:22+0000","uId":"2049025000431439"}"#
        #expect(
            try JSONDecoder().decode(WireEventResponse.self, from: Data(event.utf8)).eventId
                == "954910a8-1111-2222-3333-444455556666"
        )
        let config =
            #"{"mdmInfo":{"id":"522d5c43-d3ba-4ea6-8f58-e8c1f3f7d9a2","name":"Apple Configurator 2","metadata":"2.13.3"},"countryISO2ACode":"US","defaultPlatform":"volumestore","locationName":"Main","uId":"2049025000431439","websiteURL":"https://school.apple.com"}"#
        let envelope = try JSONDecoder().decode(WireEnvelope.self, from: Data(config.utf8))
        #expect(envelope.mdmInfo?.name == "Apple Configurator 2")
        let client = try JSONDecoder().decode(WireClientConfig.self, from: Data(config.utf8))
        #expect(client.countryISO2ACode == "US" && client.locationName == "Main")
    }

    @Test("Apple's error numbers map to the typed errors the use cases act on")
    func errorMapping() {
        let expected: [Int: AppleAPIError] = [
            9621: .tokenExpired, 9625: .tokenRevoked, 9622: .tokenInvalid(errorNumber: 9622),
            9601: .tokenInvalid(errorNumber: 9601),
            9722: .tokenInvalid(errorNumber: 9722), 9646: .rateLimited(retryAfterSeconds: nil),
            9709: .notEnoughLicences,
            9707: .notDeviceAssignable, 9706: .notRevocable, 9609: .unknownUser, 9650: .badPageIndex,
            9721: .badVersionID,
            9729: .serviceUnavailable(retryAfterSeconds: nil), 9702: .overLimits(errorNumber: 9702, message: "m"),
            9999: .apple(errorNumber: 9999, message: "m"),
        ]
        for (number, error) in expected { #expect(AppleAPIError.from(errorNumber: number, message: "m") == error) }
    }

    @Test("paging follows nextPageIndex, not currentPageIndex == totalPages")
    func chain() {
        let ctx = AppleResponseContext()
        let pages: [Int: ApplePager.Page<Int>] = [
            0: .init(items: [0], nextPageIndex: 1, totalPages: 2, versionId: "v", context: ctx),
            1: .init(items: [1], nextPageIndex: 2, totalPages: 3, versionId: "v", context: ctx),
            2: .init(items: [2], nextPageIndex: nil, totalPages: 3, versionId: "v", context: ctx),
        ]
        #expect(ApplePager.followChain(pages) == [0, 1, 2])
    }
}
