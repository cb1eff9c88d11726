/// The OpenAPI 3.1 description served at `/openapi.yaml`. Tests check that every route is documented
/// and that the answers match the documented shapes.
public enum OpenAPIDocument {
    public static let yaml = withDefaultErrors(source)

    /// Every operation also answers errors in the common shape (401, 400, 405, 413, 422, 503…): a `default`
    /// response is added to each one that has none, so no answer is undocumented.
    static func withDefaultErrors(_ text: String) -> String {
        var lines: [String] = []
        var inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true } else if line.hasPrefix("components:") { inPaths = false }
            lines.append(String(line))
            if inPaths, line == "      responses:" {
                lines.append(##"        default: { $ref: "#/components/responses/Error" }"##)
            }
        }
        return lines.joined(separator: "\n")
    }

    static let source = #"""
        openapi: 3.1.0
        info:
          title: vpp
          version: "1.0"
          description: >
            Apple content tokens (Apps and Books / VPP) for MDM servers. Authenticate with an API key:
            `Authorization: Bearer vpp_…` (create one with `vppctl apikey create --role …` or POST /v1/api-keys).
            Errors are `{"error": {"code", "message", "requestId"}}`; `code` is stable and one of the values listed
            in the Error schema. Every answer carries `X-Request-ID` (the client's, when it sends a short one).
            Request bodies are limited to 256 KiB. Query parameters are strict: booleans are exactly `true` or
            `false`, enums exactly one of their values, and a parameter an operation does not declare is refused
            (400 `bad_query_parameter`, naming the parameter and the values allowed). Destructive operations never
            act by default: DELETE /v1/tokens/{id} only removes with `confirm=true` (otherwise it answers the plan).
            Versioning: within /v1, fields, operations, error codes and enum values may be added; nothing is removed,
            renamed or retyped, and a field's meaning does not change. Clients must ignore fields they do not know.
        servers:
          - url: http://localhost:8080
        security:
          - apiKey: []
        paths:
          /healthz:
            get:
              summary: Liveness
              security: []
              responses:
                "200": { description: Alive, content: { application/json: { schema: { $ref: "#/components/schemas/Status" } } } }
          /readyz:
            get:
              summary: Readiness (database reachable and migrated)
              security: []
              responses:
                "200": { description: Ready, content: { application/json: { schema: { $ref: "#/components/schemas/Readiness" } } } }
                "503": { description: Not ready (Retry-After given), content: { application/json: { schema: { $ref: "#/components/schemas/Readiness" } } } }
          /metrics:
            get:
              summary: Prometheus metrics
              security: []
              responses:
                "200": { description: Metrics in the Prometheus text format, content: { text/plain: { schema: { type: string } } } }
          /openapi.yaml:
            get:
              summary: This document
              security: []
              responses:
                "200": { description: OpenAPI 3.1, content: { application/yaml: { schema: { type: string } } } }
          /v1/tokens:
            get:
              summary: List content tokens with their status and next step
              responses:
                "200": { description: Tokens, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Token" } } } } }
                "401": { $ref: "#/components/responses/Error" }
            post:
              summary: Upload a .vpptoken (validate with Apple, claim, store encrypted, queue the first sync)
              description: Requires the "Application Management Full Control" permission. A token held elsewhere is stored but grants nothing until taken over.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [token]
                      properties:
                        token: { type: string, maxLength: 16384, description: "The .vpptoken file's content" }
                        emails: { type: array, maxItems: 100, items: { type: string, maxLength: 254, pattern: "^[^\\s@\\x00-\\x1F\\x7F-\\x9F]+@[^\\s@.\\x00-\\x1F\\x7F-\\x9F][^\\s@\\x00-\\x1F\\x7F-\\x9F]*\\.[^\\s@\\x00-\\x1F\\x7F-\\x9F]*[^\\s@.\\x00-\\x1F\\x7F-\\x9F]$" } }
                        takeOver: { type: boolean }
                        dryRun: { type: boolean }
              responses:
                "201": { description: Stored, content: { application/json: { schema: { $ref: "#/components/schemas/UploadResult" } } } }
                "200": { description: Dry run, content: { application/json: { schema: { $ref: "#/components/schemas/UploadResult" } } } }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
          /v1/tokens/{id}:
            parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
            get:
              summary: One token
              responses:
                "200": { description: Token, content: { application/json: { schema: { $ref: "#/components/schemas/Token" } } } }
                "404": { $ref: "#/components/responses/Error" }
            delete:
              summary: Remove a token — only with confirm=true; otherwise (or with dryRun=true) the plan, nothing changed
              parameters:
                - { name: confirm, in: query, description: "true removes the token; absent or false only plans", schema: { type: boolean } }
                - { name: dryRun, in: query, description: "true only plans, even with confirm=true", schema: { type: boolean } }
              responses:
                "200": { description: "Plan (applied only with confirm=true)", content: { application/json: { schema: { $ref: "#/components/schemas/RemovalPlan" } } } }
                "400": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
          /v1/tokens/{id}/renew:
            parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
            post:
              summary: Replace the token with a new file for the same location
              requestBody: { required: true, content: { application/json: { schema: { type: object, required: [token], properties: { token: { type: string, maxLength: 16384 } } } } } }
              responses:
                "200": { description: Renewed, content: { application/json: { schema: { $ref: "#/components/schemas/Token" } } } }
                "404": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
          /v1/tokens/{id}/sync:
            parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
            post:
              summary: Sync now (needs a write role); joins a sync of the token already running anywhere
              responses:
                "200": { description: "Synced: by this request (started: true) or by the running sync it joined (started: false)", content: { application/json: { schema: { $ref: "#/components/schemas/SyncResult" } } } }
                "202": { description: "Joined a sync that is still running after 30 s (started: false)", content: { application/json: { schema: { $ref: "#/components/schemas/SyncResult" } } } }
                "403": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
          /v1/tokens/{id}/take-over:
            parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
            post:
              summary: Take over a token held by another MDM or Apple Configurator (needs confirm=true; dryRun lists what is revoked)
              requestBody: { required: true, content: { application/json: { schema: { type: object, properties: { confirm: { type: boolean }, dryRun: { type: boolean } } } } } }
              responses:
                "200": { description: Result, content: { application/json: { schema: { $ref: "#/components/schemas/TakeOverResult" } } } }
                "404": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
          /v1/apps:
            get:
              summary: The app repository with pooled counts
              responses:
                "200": { description: Apps, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/App" } } } } }
          /v1/apps/{adamId}/licenses:
            parameters: [{ name: adamId, in: path, required: true, schema: { type: string, pattern: "^[0-9]{1,20}$" } }]
            post:
              summary: Assign licences to devices and/or users
              requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Assignees" } } } }
              responses:
                "202": { description: Reserved and sent to Apple, content: { application/json: { schema: { $ref: "#/components/schemas/LicenceOperation" } } } }
                "404": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
            delete:
              summary: Revoke licences
              requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Assignees" } } } }
              responses:
                "202": { description: Sent to Apple, content: { application/json: { schema: { $ref: "#/components/schemas/LicenceOperation" } } } }
                "404": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
          /v1/licenses:
            get:
              summary: Licences with their state, in keyset pages (the next page is linked in the Link header, rel="next")
              parameters:
                - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 1000, default: 1000 } }
                - { name: after, in: query, description: "The cursor in the previous page's Link header", schema: { type: string } }
                - { name: adamId, in: query, schema: { type: string, pattern: "^[0-9]{1,20}$" } }
                - { name: pricingParam, in: query, description: "With adamId", schema: { type: string, enum: [STDQ, PLUS] } }
                - { name: tokenId, in: query, schema: { type: string, format: uuid } }
                - { name: serialNumber, in: query, schema: { type: string } }
                - { name: clientUserId, in: query, schema: { type: string } }
                - { name: state, in: query, schema: { type: string, enum: [reserved, pending, active, failed, revocation-queued, revoking, revoked] } }
              responses:
                "200":
                  description: Licences
                  headers: { Link: { description: "<url>; rel=\"next\" while more pages follow", schema: { type: string } } }
                  content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Licence" } } } }
                "400": { $ref: "#/components/responses/Error" }
          /v1/devices:
            get:
              summary: Devices
              responses:
                "200": { description: Devices, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Device" } } } } }
            post:
              summary: Add or update devices
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [devices]
                      properties:
                        devices:
                          type: array
                          maxItems: 10000
                          items:
                            type: object
                            required: [serialNumber]
                            properties:
                              serialNumber: { $ref: "#/components/schemas/SerialNumber" }
                              name: { type: string, maxLength: 200, pattern: "^[^\\x00-\\x1F\\x7F-\\x9F]*$" }
                              installedAdamIds: { type: array, maxItems: 1000, items: { $ref: "#/components/schemas/AdamId" } }
              responses:
                "201": { description: Added, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Device" } } } } }
                "422": { $ref: "#/components/responses/Error" }
          /v1/users:
            get:
              summary: Managed users
              responses:
                "200": { description: Users, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/User" } } } } }
            post:
              summary: Register users with Apple and record them
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [users]
                      properties:
                        users:
                          type: array
                          maxItems: 10000
                          items:
                            type: object
                            required: [clientUserId]
                            properties:
                              clientUserId: { $ref: "#/components/schemas/ClientUserId" }
                              email: { type: string, maxLength: 254, pattern: "^[^\\s@\\x00-\\x1F\\x7F-\\x9F]+@[^\\s@.\\x00-\\x1F\\x7F-\\x9F][^\\s@\\x00-\\x1F\\x7F-\\x9F]*\\.[^\\s@\\x00-\\x1F\\x7F-\\x9F]*[^\\s@.\\x00-\\x1F\\x7F-\\x9F]$" }
              responses:
                "201": { description: Added, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/User" } } } } }
                "422": { $ref: "#/components/responses/Error" }
          /v1/reports/licenses:
            get:
              summary: Licences per app and per token (format=csv for CSV)
              parameters: [{ name: format, in: query, schema: { type: string, enum: [json, csv] } }]
              responses:
                "400": { $ref: "#/components/responses/Error" }
                "200":
                  description: Report
                  content:
                    application/json: { schema: { type: array, items: { $ref: "#/components/schemas/LicenceReportRow" } } }
                    text/csv: { schema: { type: string } }
          /v1/reports/drift:
            get:
              summary: Drift between Apple, vpp and the device inventory, with fixes
              responses:
                "200": { description: Findings, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/DriftFinding" } } } } }
          /v1/api-keys:
            get:
              summary: The tenant's API keys (never the keys themselves); needs mdm-admin
              responses:
                "200": { description: Keys, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/APIKey" } } } } }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
            post:
              summary: Create an API key (shown once); needs mdm-admin
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [name, role]
                      properties:
                        name: { type: string, minLength: 1, maxLength: 100, pattern: "^[^\\x00-\\x1F\\x7F-\\x9F]+$" }
                        role: { type: string, enum: [read-only, app-management, mdm-admin] }
                        expiresAt: { type: string, format: date-time }
              responses:
                "201": { description: Created, content: { application/json: { schema: { $ref: "#/components/schemas/CreatedAPIKey" } } } }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
          /v1/api-keys/{id}:
            parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
            delete:
              summary: Revoke an API key; refused on every replica from the next request on
              responses:
                "200": { description: Revoked, content: { application/json: { schema: { $ref: "#/components/schemas/APIKey" } } } }
                "404": { $ref: "#/components/responses/Error" }
          /v1/api-keys/{id}/rotate:
            parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
            post:
              summary: Replace an API key with a new one (same name, role and expiry); the old one is revoked
              responses:
                "201": { description: The new key, content: { application/json: { schema: { $ref: "#/components/schemas/CreatedAPIKey" } } } }
                "404": { $ref: "#/components/responses/Error" }
          /v1/mdm:
            get:
              summary: The tenant's MDM connection (never its secrets), the webhook URL to give the MDM server, and device commands by state
              responses:
                "200": { description: Connection, content: { application/json: { schema: { $ref: "#/components/schemas/MDMConnection" } } } }
                "404": { $ref: "#/components/responses/Error" }
            put:
              summary: Connect the tenant to its MDM server (nanomdm also serves NanoHUB; webhook answers its whsec_ secret once); needs mdm-admin
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [kind]
                      properties:
                        kind: { type: string, enum: [nanomdm, micromdm, webhook, pull] }
                        url: { type: string, description: "The MDM server's base URL (webhook: the endpoint); not needed for pull" }
                        apiKey: { type: string, description: "NanoMDM/MicroMDM API key; stored encrypted, never returned" }
                        webhookHmacKey: { type: string, description: "Key the MDM server signs its webhook with (X-Hmac-Signature)" }
                        reclaimAfter: { type: string, description: "Grace period before an unenrolled device's licences are reclaimed: 0, 90s, 30m, 24h, 7d" }
                        silentDaysUnenrolled: { type: integer, minimum: 1, maximum: 3650 }
                        licenceOnly: { type: boolean, description: "Assign without sending installs (third-party installers)" }
                        licenceOnlyAdamIds: { type: array, items: { type: string } }
              responses:
                "200": { description: Connected, content: { application/json: { schema: { $ref: "#/components/schemas/MDMConnection" } } } }
                "403": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
          /v1/device-commands:
            get:
              summary: Device commands oldest first with their delivery state and Apple plist (the pull API for MDMs that poll)
              parameters:
                - { name: after, in: query, schema: { type: string }, description: "The `next` (or a command's `cursor`) of the previous page" }
                - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 1000, default: 100 } }
                - { name: serial, in: query, schema: { type: string } }
                - { name: state, in: query, schema: { type: string, enum: [queued, delivered, acknowledged, error, notNow, verified, failed, skipped] } }
              responses:
                "200": { description: A page, content: { application/json: { schema: { $ref: "#/components/schemas/DeviceCommandPage" } } } }
                "422": { $ref: "#/components/responses/Error" }
          /v1/device-commands/{id}/ack:
            parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
            post:
              summary: A pulling MDM reports what became of a command (delivered, acknowledged, error, notNow)
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [status]
                      properties:
                        status: { type: string, enum: [delivered, acknowledged, error, notNow] }
                        error: { type: string }
              responses:
                "200": { description: Recorded, content: { application/json: { schema: { $ref: "#/components/schemas/DeviceCommand" } } } }
                "404": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
          /mdm/webhook/{tenantId}:
            parameters: [{ name: tenantId, in: path, required: true, schema: { type: string, format: uuid } }]
            post:
              summary: The MicroMDM-compatible webhook of NanoMDM, NanoHUB and MicroMDM (X-Hmac-Signature required when a key is set)
              security: []
              parameters: [{ name: X-Hmac-Signature, in: header, schema: { type: string }, description: "base64 HMAC-SHA256 of the raw body" }]
              requestBody: { required: true, content: { application/json: { schema: { type: object } } } }
              responses:
                "200": { description: Recorded (processed from the queue), content: { application/json: { schema: { type: object, additionalProperties: { type: string } } } } }
                "401": { $ref: "#/components/responses/Error" }
          /apple/notifications/{tokenId}:
            parameters: [{ name: tokenId, in: path, required: true, schema: { type: string, format: uuid } }]
            post:
              summary: Apple's notification webhook (bearer = the notificationAuthToken vpp gave Apple)
              security: [{ appleBearer: [] }]
              requestBody: { required: true, content: { application/json: { schema: { type: object } } } }
              responses:
                "200": { description: Handled or duplicate, content: { application/json: { schema: { type: object, additionalProperties: { type: string } } } } }
                "401": { $ref: "#/components/responses/Error" }
        components:
          securitySchemes:
            apiKey: { type: http, scheme: bearer }
            appleBearer: { type: http, scheme: bearer }
          responses:
            Error:
              description: Error
              content:
                application/json:
                  schema:
                    type: object
                    required: [error]
                    properties:
                      error:
                        type: object
                        required: [code, message, requestId]
                        properties:
                          code: { type: string, enum: [\#(APIErrorCode.yamlList)] }
                          message: { type: string }
                          requestId: { type: string }
          schemas:
            Status: { type: object, required: [status], additionalProperties: { type: string } }
            Readiness:
              type: object
              required: [status]
              properties:
                status: { type: string, enum: [ready, not ready] }
                schemaVersion: { type: integer }
                reason: { type: string }
            SyncResult:
              type: object
              required: [started]
              properties:
                started: { type: boolean, description: "false: joined a sync already running; the counts are then absent" }
                assets: { type: integer }
                assignments: { type: integer }
                inserted: { type: integer }
                deleted: { type: integer }
                incremental: { type: boolean }
            AssignmentRef:
              type: object
              required: [adamId, pricingParam]
              properties:
                adamId: { type: string }
                pricingParam: { type: string }
                serialNumber: { type: string }
                clientUserId: { type: string }
            TakeOverResult:
              type: object
              required: [applied, licencesToRevoke, revokes]
              properties:
                applied: { type: boolean }
                holder: { type: string }
                licencesToRevoke: { type: integer }
                revokes: { type: array, items: { $ref: "#/components/schemas/AssignmentRef" } }
            APIKey:
              type: object
              required: [id, name, role, createdBy, createdAt]
              properties:
                id: { type: string, format: uuid }
                name: { type: string }
                role: { type: string, enum: [read-only, app-management, mdm-admin] }
                createdBy: { type: string }
                createdAt: { type: string, format: date-time }
                lastUsedAt: { type: string, format: date-time }
                expiresAt: { type: string, format: date-time }
                revokedAt: { type: string, format: date-time }
            CreatedAPIKey:
              type: object
              required: [key, apiKey]
              properties:
                key: { type: string, description: "The key itself, shown only in this answer" }
                apiKey: { $ref: "#/components/schemas/APIKey" }
            Token:
              type: object
              required: [id, location, locationId, country, organization, expiresAt, daysLeft, status, nextStep, fingerprint, apps, noticeRecipients]
              properties:
                id: { type: string }
                location: { type: string }
                locationId: { type: string }
                country: { type: string }
                organization: { type: string }
                expiresAt: { type: string }
                daysLeft: { type: integer }
                status: { type: string, enum: [active, expiring_soon, expired, revoked, invalid, in_use_elsewhere] }
                nextStep: { type: string }
                holder: { type: string }
                fingerprint: { type: string }
                apps: { type: integer }
                lastSync: { type: string }
                lastSyncError: { type: string }
                noticeRecipients: { type: array, items: { type: string } }
            UploadResult:
              type: object
              required: [stored, status, location, nextStep]
              properties:
                stored: { type: boolean }
                status: { type: string }
                location: { type: string }
                holder: { type: string }
                otherTenant: { type: string }
                token: { $ref: "#/components/schemas/Token" }
                takeOverRevokes: { type: array, items: { $ref: "#/components/schemas/AssignmentRef" } }
                nextStep: { type: string }
            RemovalPlan:
              type: object
              required: [applied, location, licencesToRevoke, canRevokeAtApple, relicensed, uninstalls, appsLeaving]
              properties:
                applied: { type: boolean }
                location: { type: string }
                licencesToRevoke: { type: integer }
                canRevokeAtApple: { type: boolean }
                relicensed: { type: array, items: { type: string } }
                uninstalls: { type: array, items: { type: string } }
                appsLeaving: { type: array, items: { type: string } }
            App:
              type: object
              required: [adamId, pricingParam, productType, platforms, deviceAssignable, revocable, total, assigned, available]
              properties:
                adamId: { type: string }
                pricingParam: { type: string }
                name: { type: string }
                bundleId: { type: string }
                version: { type: string }
                iconUrl: { type: string }
                productType: { type: string }
                platforms: { type: array, items: { type: string } }
                deviceAssignable: { type: boolean }
                revocable: { type: boolean }
                total: { type: integer }
                assigned: { type: integer }
                available: { type: integer }
            SerialNumber: { type: string, pattern: "^ *[A-Za-z0-9]{8,20} *$", description: "8 to 20 ASCII letters and digits" }
            AdamId: { type: string, pattern: "^[0-9]{1,20}$" }
            ClientUserId: { type: string, minLength: 1, maxLength: 256, pattern: "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$" }
            Assignees:
              type: object
              description: At least one serial number or client user id, none listed twice.
              anyOf: [{ required: [serialNumbers] }, { required: [clientUserIds] }]
              properties:
                serialNumbers: { type: array, minItems: 1, maxItems: 10000, uniqueItems: true, items: { $ref: "#/components/schemas/SerialNumber" } }
                clientUserIds: { type: array, minItems: 1, maxItems: 10000, uniqueItems: true, items: { $ref: "#/components/schemas/ClientUserId" } }
                pricingParam: { type: string, enum: [STDQ, PLUS] }
            LicenceOperation:
              type: object
              required: [accepted, appleEvents]
              properties:
                accepted: { type: integer }
                appleEvents: { type: array, items: { type: string } }
                licences: { type: array, items: { $ref: "#/components/schemas/Licence" } }
            Licence:
              type: object
              required: [id, adamId, tokenId, state]
              properties:
                id: { type: string }
                adamId: { type: string }
                serialNumber: { type: string }
                clientUserId: { type: string }
                tokenId: { type: string }
                state: { type: string, enum: [reserved, pending, active, failed, revoking, revoked] }
                detail: { type: string }
            Device:
              type: object
              required: [serialNumber, installedAdamIds, retired]
              properties:
                serialNumber: { type: string }
                name: { type: string }
                installedAdamIds: { type: array, items: { type: string } }
                retired: { type: boolean }
                enrollment: { type: string, enum: [manual, enrolling, enrolled, unenrolled] }
                udid: { type: string, description: MDM enrollment id }
                model: { type: string }
                osVersion: { type: string }
                lastSeenAt: { type: string, format: date-time }
            MDMConnection:
              type: object
              required: [kind, url, hasAPIKey, hasWebhookHMACKey, reclaimAfterSeconds, licenceOnly, licenceOnlyAdamIds, commands]
              properties:
                kind: { type: string, enum: [nanomdm, micromdm, webhook, pull] }
                url: { type: string }
                webhookURL: { type: string, description: "Give this to the MDM server as its webhook URL" }
                hasAPIKey: { type: boolean }
                hasWebhookHMACKey: { type: boolean }
                reclaimAfterSeconds: { type: integer }
                silentDaysUnenrolled: { type: integer }
                licenceOnly: { type: boolean }
                licenceOnlyAdamIds: { type: array, items: { type: string } }
                disabledReason: { type: string, description: "Set when the webhook endpoint answered 410 Gone" }
                commands: { type: object, additionalProperties: { type: integer }, description: "Device commands by state" }
                signingSecret: { type: string, description: "The whsec_ secret, only in the answer that created it" }
            DeviceCommand:
              type: object
              required: [id, serialNumber, requestType, state, attempts, createdAt, cursor]
              properties:
                id: { type: string, format: uuid, description: "Also the plist's CommandUUID" }
                serialNumber: { type: string }
                requestType: { type: string, enum: [InstallApplication, RemoveApplication, InstalledApplicationList] }
                adamId: { type: string }
                state: { type: string, enum: [queued, delivered, acknowledged, error, notNow, verified, failed, skipped] }
                attempts: { type: integer }
                nextAttemptAt: { type: string, format: date-time }
                lastError: { type: string }
                createdAt: { type: string, format: date-time }
                deliveredAt: { type: string, format: date-time }
                updatedAt: { type: string, format: date-time }
                enrollmentId: { type: string }
                cursor: { type: string }
                plist: { type: string, contentEncoding: base64, description: "The Apple MDM command (XML plist)" }
            DeviceCommandPage:
              type: object
              required: [commands]
              properties:
                commands: { type: array, items: { $ref: "#/components/schemas/DeviceCommand" } }
                next: { type: string, description: "Pass as after for the next page; absent on the last page" }
            User:
              type: object
              required: [clientUserId, status]
              properties:
                clientUserId: { type: string }
                email: { type: string }
                status: { type: string }
            LicenceReportRow:
              type: object
              required: [adamId, pricingParam, name, location, tokenStatus, total, assigned, available, retired]
              properties:
                adamId: { type: string }
                pricingParam: { type: string }
                name: { type: string }
                location: { type: string }
                tokenStatus: { type: string }
                total: { type: integer }
                assigned: { type: integer }
                available: { type: integer }
                retired: { type: integer }
            DriftFinding:
              type: object
              required: [kind, adamId, assignee, location, fix]
              properties:
                kind: { type: string, enum: [orphaned, foreign, missing, failed] }
                adamId: { type: string }
                assignee: { type: string }
                location: { type: string }
                fix: { type: string }
        """#
}
