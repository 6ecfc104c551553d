/**
 * `obj[key] = value` for keys taken from a file: defines an own property, so a key such as
 * `__proto__` is stored as data instead of replacing the object's prototype.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
