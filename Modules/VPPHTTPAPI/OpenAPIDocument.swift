/// The OpenAPI 3.1 description served at `/openapi.yaml`. Tests check that every route is documented
/// and that the answers match the documented shapes.
public enum OpenAPIDocument {
    public static let yaml = #"""
openapi: 3.1.0
info:
  title: vpp
  version: "1.0"
  description: >
    Apple content tokens (Apps and Books / VPP) for MDM servers. Authenticate with an API key:
    `Authorization: Bearer vpp_…` (create one with `vppctl apikey create --role …`). Errors are
    `{"error": {"code", "message"}}`. Request bodies are limited to 256 KiB.
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
        "200": { description: Ready, content: { application/json: { schema: { $ref: "#/components/schemas/Status" } } } }
        "503": { description: Not ready, content: { application/json: { schema: { $ref: "#/components/schemas/Status" } } } }
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
                token: { type: string, description: "The .vpptoken file's content" }
                emails: { type: array, items: { type: string } }
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
      summary: Remove a token (with dryRun=true, only the plan)
      parameters: [{ name: dryRun, in: query, schema: { type: boolean } }]
      responses:
        "200": { description: Plan (applied unless dryRun), content: { application/json: { schema: { $ref: "#/components/schemas/RemovalPlan" } } } }
        "404": { $ref: "#/components/responses/Error" }
  /v1/tokens/{id}/renew:
    parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
    post:
      summary: Replace the token with a new file for the same location
      requestBody: { required: true, content: { application/json: { schema: { type: object, required: [token], properties: { token: { type: string } } } } } }
      responses:
        "200": { description: Renewed, content: { application/json: { schema: { $ref: "#/components/schemas/Token" } } } }
        "404": { $ref: "#/components/responses/Error" }
        "422": { $ref: "#/components/responses/Error" }
  /v1/tokens/{id}/sync:
    parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
    post:
      summary: Sync now
      responses:
        "200": { description: Sync report, content: { application/json: { schema: { type: object, additionalProperties: { type: string } } } } }
        "404": { $ref: "#/components/responses/Error" }
        "409": { $ref: "#/components/responses/Error" }
        "422": { $ref: "#/components/responses/Error" }
  /v1/tokens/{id}/take-over:
    parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
    post:
      summary: Take over a token held by another MDM or Apple Configurator (needs confirm=true; dryRun lists what is revoked)
      requestBody: { required: true, content: { application/json: { schema: { type: object, properties: { confirm: { type: boolean }, dryRun: { type: boolean } } } } } }
      responses:
        "200": { description: Result, content: { application/json: { schema: { type: object, additionalProperties: { type: string } } } } }
        "404": { $ref: "#/components/responses/Error" }
        "422": { $ref: "#/components/responses/Error" }
  /v1/apps:
    get:
      summary: The app repository with pooled counts
      responses:
        "200": { description: Apps, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/App" } } } } }
  /v1/apps/{adamId}/licenses:
    parameters: [{ name: adamId, in: path, required: true, schema: { type: string } }]
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
      summary: Every licence vpp knows, with its state
      responses:
        "200": { description: Licences, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Licence" } } } } }
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
                  items: { type: object, required: [serialNumber], properties: { serialNumber: { type: string }, name: { type: string }, installedAdamIds: { type: array, items: { type: string } } } }
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
                users: { type: array, items: { type: object, required: [clientUserId], properties: { clientUserId: { type: string }, email: { type: string } } } }
      responses:
        "201": { description: Added, content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/User" } } } } }
        "422": { $ref: "#/components/responses/Error" }
  /v1/reports/licenses:
    get:
      summary: Licences per app and per token (format=csv for CSV)
      parameters: [{ name: format, in: query, schema: { type: string, enum: [json, csv] } }]
      responses:
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
              error: { type: object, required: [code, message], properties: { code: { type: string }, message: { type: string } } }
  schemas:
    Status: { type: object, required: [status], additionalProperties: { type: string } }
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
        takeOverRevokes: { type: array, items: { type: string } }
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
    Assignees:
      type: object
      properties:
        serialNumbers: { type: array, items: { type: string } }
        clientUserIds: { type: array, items: { type: string } }
        pricingParam: { type: string, enum: [STDQ, PLUS] }
    LicenceOperation:
      type: object
      required: [accepted, appleEvents]
      properties:
        accepted: { type: integer }
        appleEvents: { type: array, items: { type: string } }
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
    User:
      type: object
      required: [clientUserId, status]
      properties:
        clientUserId: { type: string }
        email: { type: string }
        status: { type: string }
    LicenceReportRow:
      type: object
      required: [adamID, pricingParam, name, location, tokenStatus, total, assigned, available, retired]
      properties:
        adamID: { type: string }
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
      required: [kind, adamID, assignee, location, fix]
      properties:
        kind: { type: string, enum: [orphaned, foreign, missing, failed] }
        adamID: { type: string }
        assignee: { type: string }
        location: { type: string }
        fix: { type: string }
"""#
}
