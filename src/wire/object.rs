//! How the wire's objects are serialized: each one as a table of its fields,
//! written by one loop.
//!
//! `#[derive(Serialize)]` writes one `serialize_field` call per field, each
//! its own generic code; in the browser module that was 4 KB brotli for the
//! beacon, plus a cache of field names that serde-wasm-bindgen keeps for
//! structs. Here a `wire_object!` struct lists its
//! fields once, as [`Field`]s, and [`serialize_fields`] writes them as a map
//! (a plain object in serde-wasm-bindgen with `serialize_maps_as_objects`):
//! the same JSON as the derive, except that an absent field (`None`) is
//! left out instead of written as `null`, which every reader of the wire
//! takes the same way.
//!
//! The field names are the Rust names, and the same derive reads them, so
//! a field is declared once for both directions; no `#[serde(rename)]` on
//! fields of such a struct (`round_trips_every_field` in the tests fails
//! when the two disagree).

use serde::ser::{Serialize, SerializeMap, Serializer};

/// One field's value as it goes on the wire.
pub enum Value<'a> {
    /// A whole number.
    Int(u32),
    /// A number.
    Num(f64),
    /// A string.
    Text(&'a str),
    /// A boolean.
    Flag(bool),
    /// A nested object.
    Object(&'a dyn Fields),
}

/// A field: its name and its value, `None` when absent.
pub type Field<'a> = (&'a str, Option<Value<'a>>);

/// An object of the wire, as its list of fields.
pub trait Fields {
    /// The fields in their wire order.
    fn fields(&self) -> Vec<Field<'_>>;
}

/// A type that is one field's value on the wire.
pub trait ToValue {
    /// Its value, `None` when it is absent.
    fn value(&self) -> Option<Value<'_>>;
}

macro_rules! to_value {
    ($($ty:ty => $variant:ident),* $(,)?) => {
        $(impl ToValue for $ty {
            fn value(&self) -> Option<Value<'_>> {
                Some(Value::$variant((*self).into()))
            }
        })*
    };
}
to_value!(u8 => Int, u16 => Int, u32 => Int, f64 => Num, bool => Flag);

impl ToValue for String {
    fn value(&self) -> Option<Value<'_>> {
        Some(Value::Text(self))
    }
}

impl<T: ToValue> ToValue for Option<T> {
    // Not inlined: a wire object's `fields` is then one call per field
    // instead of each field's test and conversion spelled out (the
    // browser module's `Beacon::fields`: 2.9 KB of code).
    #[inline(never)]
    fn value(&self) -> Option<Value<'_>> {
        self.as_ref().and_then(T::value)
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Int(n) => serializer.serialize_u32(n),
            Value::Num(n) => serializer.serialize_f64(n),
            Value::Text(s) => serializer.serialize_str(s),
            Value::Flag(b) => serializer.serialize_bool(b),
            Value::Object(o) => serialize_fields(o, serializer),
        }
    }
}

/// Writes `object` as a map of its present fields, in order.
pub fn serialize_fields<S: Serializer>(object: &dyn Fields, serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    for (name, value) in object.fields() {
        if let Some(value) = value {
            map.serialize_entry(name, &value)?;
        }
    }
    map.end()
}

/// Declares a struct of the wire: the struct as written (its derives and
/// attributes kept, `Deserialize` among them), plus its [`Fields`],
/// [`ToValue`] and a `Serialize` through [`serialize_fields`].
macro_rules! wire_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $crate::wire::object::Fields for $name {
            fn fields(&self) -> ::std::vec::Vec<$crate::wire::object::Field<'_>> {
                use $crate::wire::object::ToValue;
                ::std::vec![$((stringify!($field), self.$field.value()),)*]
            }
        }

        impl $crate::wire::object::ToValue for $name {
            fn value(&self) -> Option<$crate::wire::object::Value<'_>> {
                Some($crate::wire::object::Value::Object(self))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::wire::object::serialize_fields(self, serializer)
            }
        }
    };
}
pub(crate) use wire_object;
