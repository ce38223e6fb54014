package dev.bowline.ca;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.ca.proto.IstioCertificateRequest;
import dev.bowline.ca.proto.IstioCertificateResponse;
import dev.bowline.ca.proto.IstioCertificateServiceGrpc;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Our ca.proto must put the same names and bytes on the wire as Istio's security/v1alpha1. */
class IstioProtoCompatibilityTest {

  @Test
  void serviceAndMethodCarryIstiosFullNames() {
    assertThat(IstioCertificateServiceGrpc.SERVICE_NAME)
        .isEqualTo("istio.v1.auth.IstioCertificateService");
    assertThat(IstioCertificateServiceGrpc.getCreateCertificateMethod().getFullMethodName())
        .isEqualTo("istio.v1.auth.IstioCertificateService/CreateCertificate");
    assertThat(IstioCertificateRequest.getDescriptor().getFullName())
        .isEqualTo("istio.v1.auth.IstioCertificateRequest");
    assertThat(IstioCertificateResponse.getDescriptor().getFullName())
        .isEqualTo("istio.v1.auth.IstioCertificateResponse");
  }

  @Test
  void requestBytesAsIstiosAgentEncodesThemDecodeIntoOurFields() throws Exception {
    // csr = 1 (length-delimited), validity_duration = 3 (varint), metadata = 4 (Struct with
    // fields map entry "ClusterID" -> string_value "Kubernetes").
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    byte[] csr = "-----BEGIN CERTIFICATE REQUEST-----".getBytes(StandardCharsets.US_ASCII);
    wire.write(0x0a);
    wire.write(csr.length);
    wire.write(csr);
    wire.write(0x18);
    wire.write(new byte[] {(byte) 0x80, (byte) 0xa3, 0x05}); // 86400
    byte[] key = "ClusterID".getBytes(StandardCharsets.US_ASCII);
    byte[] value = "Kubernetes".getBytes(StandardCharsets.US_ASCII);
    // Value { string_value = 3 }
    byte[] valueMsg = concat(new byte[] {0x1a, (byte) value.length}, value);
    // FieldsEntry { key = 1, value = 2 }
    byte[] entry =
        concat(
            concat(new byte[] {0x0a, (byte) key.length}, key),
            concat(new byte[] {0x12, (byte) valueMsg.length}, valueMsg));
    // Struct { fields = 1 }
    byte[] struct = concat(new byte[] {0x0a, (byte) entry.length}, entry);
    wire.write(0x22);
    wire.write(struct.length);
    wire.write(struct);

    IstioCertificateRequest request = IstioCertificateRequest.parseFrom(wire.toByteArray());
    assertThat(request.getCsr()).isEqualTo("-----BEGIN CERTIFICATE REQUEST-----");
    assertThat(request.getValidityDuration()).isEqualTo(86400);
    assertThat(request.getMetadata().getFieldsOrThrow("ClusterID").getStringValue())
        .isEqualTo("Kubernetes");
  }

  @Test
  void responseChainIsFieldOne() throws Exception {
    byte[] bytes =
        IstioCertificateResponse.newBuilder()
            .addCertChain("leaf")
            .addCertChain("root")
            .build()
            .toByteArray();
    assertThat(bytes).containsExactly(0x0a, 4, 'l', 'e', 'a', 'f', 0x0a, 4, 'r', 'o', 'o', 't');
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
