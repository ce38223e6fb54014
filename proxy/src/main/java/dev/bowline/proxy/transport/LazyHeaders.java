package dev.bowline.proxy.transport;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Trailers that cost one small object until a trailer is added: reads of an empty map answer from
 * nothing, the first write makes Netty's trailers map (its trailer-name validation included) and
 * every call after goes to it. Netty's HTTP/1 decoder makes a trailers map for every message's last
 * content, and almost none ever gets a trailer. Event loop only, as Netty's maps.
 */
final class LazyHeaders extends HttpHeaders {
  private static final DefaultHttpHeadersFactory TRAILERS =
      DefaultHttpHeadersFactory.trailersFactory();

  private @Nullable HttpHeaders map;

  private HttpHeaders map() {
    HttpHeaders m = map;
    if (m == null) {
      m = TRAILERS.newHeaders();
      map = m;
    }
    return m;
  }

  @Override
  public @Nullable String get(String name) {
    return map == null ? null : map.get(name);
  }

  @Override
  public @Nullable Integer getInt(CharSequence name) {
    return map == null ? null : map.getInt(name);
  }

  @Override
  public int getInt(CharSequence name, int defaultValue) {
    return map == null ? defaultValue : map.getInt(name, defaultValue);
  }

  @Override
  public @Nullable Short getShort(CharSequence name) {
    return map == null ? null : map.getShort(name);
  }

  @Override
  public short getShort(CharSequence name, short defaultValue) {
    return map == null ? defaultValue : map.getShort(name, defaultValue);
  }

  @Override
  public @Nullable Long getTimeMillis(CharSequence name) {
    return map == null ? null : map.getTimeMillis(name);
  }

  @Override
  public long getTimeMillis(CharSequence name, long defaultValue) {
    return map == null ? defaultValue : map.getTimeMillis(name, defaultValue);
  }

  @Override
  public List<String> getAll(String name) {
    return map == null ? Collections.emptyList() : map.getAll(name);
  }

  @Override
  public List<Map.Entry<String, String>> entries() {
    return map == null ? Collections.emptyList() : map.entries();
  }

  @Override
  public boolean contains(String name) {
    return map != null && map.contains(name);
  }

  @Override
  public Iterator<Map.Entry<String, String>> iterator() {
    return map == null ? Collections.emptyIterator() : map.iterator();
  }

  @Override
  public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
    return map == null ? Collections.emptyIterator() : map.iteratorCharSequence();
  }

  @Override
  public boolean isEmpty() {
    return map == null || map.isEmpty();
  }

  @Override
  public int size() {
    return map == null ? 0 : map.size();
  }

  @Override
  public Set<String> names() {
    return map == null ? Collections.emptySet() : map.names();
  }

  @Override
  public HttpHeaders add(String name, Object value) {
    map().add(name, value);
    return this;
  }

  @Override
  public HttpHeaders add(CharSequence name, Object value) {
    map().add(name, value);
    return this;
  }

  @Override
  public HttpHeaders add(String name, Iterable<?> values) {
    map().add(name, values);
    return this;
  }

  @Override
  public HttpHeaders addInt(CharSequence name, int value) {
    map().addInt(name, value);
    return this;
  }

  @Override
  public HttpHeaders addShort(CharSequence name, short value) {
    map().addShort(name, value);
    return this;
  }

  @Override
  public HttpHeaders set(String name, Object value) {
    map().set(name, value);
    return this;
  }

  @Override
  public HttpHeaders set(CharSequence name, Object value) {
    map().set(name, value);
    return this;
  }

  @Override
  public HttpHeaders set(String name, Iterable<?> values) {
    map().set(name, values);
    return this;
  }

  @Override
  public HttpHeaders setInt(CharSequence name, int value) {
    map().setInt(name, value);
    return this;
  }

  @Override
  public HttpHeaders setShort(CharSequence name, short value) {
    map().setShort(name, value);
    return this;
  }

  @Override
  public HttpHeaders remove(String name) {
    if (map != null) {
      map.remove(name);
    }
    return this;
  }

  @Override
  public HttpHeaders remove(CharSequence name) {
    if (map != null) {
      map.remove(name);
    }
    return this;
  }

  @Override
  public HttpHeaders clear() {
    if (map != null) {
      map.clear();
    }
    return this;
  }

  @Override
  public @Nullable String get(CharSequence name) {
    return map == null ? null : map.get(name);
  }

  @Override
  public boolean contains(CharSequence name) {
    return map != null && map.contains(name);
  }

  @Override
  public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
    return map != null && map.contains(name, value, ignoreCase);
  }

  @Override
  public HttpHeaders copy() {
    return map == null ? TRAILERS.newHeaders() : map.copy();
  }
}
