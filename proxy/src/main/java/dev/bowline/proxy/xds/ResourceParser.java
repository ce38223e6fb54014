package dev.bowline.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.Set;

/**
 * Turns one xDS resource type into its runtime record. {@link #unpackAndParse} is the common part
 * (unpack the {@code Any}, name the resource); subclasses write {@link #parse}.
 *
 * @param <P> the Envoy proto
 * @param <R> the runtime record
 */
public abstract class ResourceParser<P extends Message, R> {
  private final String typeUrl;
  private final Descriptor descriptor;
  private final Parser<P> protoParser;
  private final String kind;

  /**
   * A parser of {@code typeUrl} resources, read with the proto's generated {@code getDescriptor()}
   * and {@code parser()} (not {@code Any.unpack}: see {@link dev.bowline.proxy.config.Anys}).
   */
  ResourceParser(String typeUrl, Descriptor descriptor, Parser<P> protoParser) {
    this.typeUrl = typeUrl;
    this.descriptor = descriptor;
    this.protoParser = protoParser;
    this.kind = descriptor.getName();
  }

  /** The xDS type URL, e.g. {@code type.googleapis.com/envoy.config.listener.v3.Listener}. */
  public final String typeUrl() {
    return typeUrl;
  }

  /** The proto's simple name, used in messages ({@code Listener}, {@code Cluster}). */
  public final String kind() {
    return kind;
  }

  /** The resource's name. */
  public abstract String name(P proto);

  /** Builds the runtime record; errors name the field relative to the resource. */
  public abstract R parse(P proto) throws InvalidResourceException;

  /** The field paths this parser acts on (see {@link FieldAudit}). */
  abstract Set<String> honouredFields();

  /** Fields found set but not acted on, beyond the resource's own (e.g. inside typed configs). */
  Set<String> nestedIgnored(P proto) {
    return Set.of();
  }

  private final Set<String> reported = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Builds the runtime record of a resource received as {@code bytes} and audits its fields. A
   * parser may override this to reuse what it converted from identical bytes before ({@link
   * RouteConfigParser}: virtual hosts).
   */
  R parseAndAudit(P proto, com.google.protobuf.ByteString bytes) throws InvalidResourceException {
    R r = parse(proto);
    audit(proto, bytes);
    return r;
  }

  /** Warns once per field this proxy does not act on; never silent, never fatal. */
  final void audit(P proto, com.google.protobuf.ByteString bytes) {
    Set<String> ignored =
        new java.util.TreeSet<>(FieldAudit.ignored(proto, bytes, descriptor, honouredFields()));
    ignored.addAll(nestedIgnored(proto));
    for (String f : ignored) {
      if (reported.add(f)) {
        LOG.log(
            System.Logger.Level.WARNING,
            "event=xds_field_ignored kind={0} field={1} first_resource={2}",
            kind,
            f,
            name(proto));
      }
    }
  }

  private static final System.Logger LOG = System.getLogger(ResourceParser.class.getName());

  /**
   * Unpacks {@code any}, parses it and returns both, or an error naming type, resource and field.
   */
  public final Parsed<P, R> unpackAndParse(Any any) throws ParseFailure {
    P proto;
    try {
      proto = dev.bowline.proxy.config.Anys.unpack(any, descriptor, protoParser);
    } catch (InvalidProtocolBufferException e) {
      throw new ParseFailure(
          "", kind + ": cannot unpack " + any.getTypeUrl() + ": " + e.getMessage());
    }
    String name = name(proto);
    try {
      return new Parsed<>(name, proto, parseAndAudit(proto, any.getValue()));
    } catch (InvalidResourceException e) {
      throw new ParseFailure(name, kind + " " + name + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw new ParseFailure(name, kind + " " + name + ": " + e.getMessage());
    }
  }

  /** Parses a proto given directly (bootstrap static resources). */
  public final R parseStatic(P proto) throws ParseFailure {
    try {
      R r = parse(proto);
      audit(proto, proto.toByteString());
      return r;
    } catch (InvalidResourceException | RuntimeException e) {
      throw new ParseFailure(name(proto), kind + " " + name(proto) + ": " + e.getMessage());
    }
  }

  /** A parsed resource with the proto it came from (kept for config dumps). */
  public record Parsed<P, R>(String name, P proto, R value) {}

  /** A resource that failed; the message starts with its kind and name. */
  public static final class ParseFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final String resourceName;

    ParseFailure(String resourceName, String message) {
      super(message);
      this.resourceName = resourceName;
    }

    public String resourceName() {
      return resourceName;
    }
  }
}
