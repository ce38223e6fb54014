package dev.bowline.proxy.http.filter.jwt;

/** The outcome of checking a token, with Envoy's (jwt_verify_lib's) text for each failure. */
enum JwtStatus {
  OK("OK"),
  JWT_MISSED("Jwt is missing"),
  JWT_NOT_YET_VALID("Jwt not yet valid"),
  JWT_EXPIRED("Jwt is expired"),
  JWT_BAD_FORMAT("Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"),
  JWT_HEADER_BAD_BASE64("Jwt header is an invalid Base64url encoded"),
  JWT_HEADER_BAD_JSON("Jwt header is an invalid JSON"),
  JWT_HEADER_BAD_ALG("Jwt header [alg] field is required and must be a string"),
  JWT_HEADER_NOT_IMPLEMENTED_ALG("Jwt header [alg] is not supported"),
  JWT_HEADER_BAD_KID("Jwt header [kid] field is not a string"),
  JWT_PAYLOAD_BAD_BASE64("Jwt payload is an invalid Base64url encoded"),
  JWT_PAYLOAD_BAD_JSON("Jwt payload is an invalid JSON"),
  JWT_PAYLOAD_ISS_NOT_STRING("Jwt payload [iss] field is not a string"),
  JWT_PAYLOAD_SUB_NOT_STRING("Jwt payload [sub] field is not a string"),
  JWT_PAYLOAD_IAT_NOT_INTEGER("Jwt payload [iat] field is not an integer"),
  JWT_PAYLOAD_NBF_NOT_INTEGER("Jwt payload [nbf] field is not an integer"),
  JWT_PAYLOAD_EXP_NOT_INTEGER("Jwt payload [exp] field is not an integer"),
  JWT_PAYLOAD_JTI_NOT_STRING("Jwt payload [jti] field is not a string"),
  JWT_PAYLOAD_AUD_NOT_STRING("Jwt payload [aud] field is not a string or string list"),
  JWT_SIGNATURE_BAD_BASE64("Jwt signature is an invalid Base64url encoded"),
  JWT_UNKNOWN_ISSUER("Jwt issuer is not configured"),
  JWT_AUDIENCE_NOT_ALLOWED("Audiences in Jwt are not allowed"),
  JWT_VERIFICATION_FAIL("Jwt verification fails"),
  JWKS_KID_ALG_MISMATCH("Jwks doesn't have key to match kid or alg from Jwt"),
  JWKS_FETCH_FAIL("Jwks remote fetch is failed");

  private final String text;

  JwtStatus(String text) {
    this.text = text;
  }

  /** Envoy's text, the body of the local reply. */
  String text() {
    return text;
  }

  /** Envoy answers a disallowed audience with 403, every other failure with 401. */
  int httpStatus() {
    return this == JWT_AUDIENCE_NOT_ALLOWED ? 403 : 401;
  }
}
