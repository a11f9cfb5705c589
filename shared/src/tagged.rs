//! Hand-written deserialisation of internally tagged enums (`#[serde(tag = "...")]`) and of
//! structs with a flattened field, through a `serde_json` map, with the same JSON and the same
//! error messages as serde's derive.
//!
//! Why: the derive buffers an internally tagged enum into serde's private `Content` and then
//! deserialises every variant again from it, so each type below such an enum is compiled once
//! per deserializer (the JSON reader, `Content`, `&Content` for `flatten`). In the browser's WASM
//! that made the segment tree's deserialiser alone about 130 KB. Here the object is read once as
//! a `serde_json` map (code the app has anyway) and taken apart by plain, non-generic functions.
//!
//! One difference: serde also accepts an internally tagged enum written as a sequence (tag
//! first); these only accept objects, the only form this project writes.

use std::{fmt, marker::PhantomData};

use serde::{
    Deserialize,
    de::{
        DeserializeOwned, Error as _, MapAccess, Unexpected, Visitor, value::MapAccessDeserializer,
    },
};
use serde_json::{Error, Map, Value};

pub(crate) type Object = Map<String, Value>;

/// An internally tagged enum (`#[serde(tag = "...")]`) read from its object.
pub(crate) trait Tagged: Sized {
    /// The enum's name, for serde's "invalid type" message.
    const NAME: &'static str;
    /// The field that holds the variant's name.
    const TAG: &'static str;
    const VARIANTS: &'static [&'static str];

    /// The variant named `tag` (one of [`Self::VARIANTS`]), from its object (tag included).
    fn from_object(object: &Object, tag: &str) -> Result<Self, Error>;

    /// Reads the tag too: for an enum that shares its object with an enclosing one.
    fn from_tagged_object(object: &Object) -> Result<Self, Error> {
        Self::from_object(object, tag::<Self>(object)?)
    }
}

/// Implements `Deserialize` for [`Tagged`] types. As with serde's derive, an error in the object
/// or the tag is reported inside the deserializer (`serde_json` adds the position to it), and one
/// in a variant's fields after it.
macro_rules! deserialize_tagged {
    ($($ty:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let object = deserializer.deserialize_any(crate::tagged::TaggedVisitor::<$ty>::new())?;
                <$ty as crate::tagged::Tagged>::from_tagged_object(&object)
                    .map_err(serde::de::Error::custom)
            }
        }
    )*};
}
pub(crate) use deserialize_tagged;

/// Implements `Deserialize` for a struct with a `#[serde(flatten)]` field, which the derive
/// buffers like an internally tagged enum: `$build` makes it from the fields (`$object`). As with
/// the derive, everything happens inside the deserializer.
macro_rules! deserialize_flattened {
    ($ty:ty, $expecting:literal, |$object:ident| $build:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;

                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$ty, A::Error> {
                        let fields = <crate::tagged::Object as serde::Deserialize>::deserialize(
                            serde::de::value::MapAccessDeserializer::new(map),
                        )?;
                        let $object = &fields;
                        let build = || -> Result<$ty, serde_json::Error> { Ok($build) };
                        build().map_err(serde::de::Error::custom)
                    }
                }

                deserializer.deserialize_map(Visitor)
            }
        }
    };
}
pub(crate) use deserialize_flattened;

/// Reads a [`Tagged`] type's object and checks its tag.
pub(crate) struct TaggedVisitor<T>(PhantomData<T>);

impl<T> TaggedVisitor<T> {
    pub(crate) fn new() -> Self {
        TaggedVisitor(PhantomData)
    }
}

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = Object;

    // Anything but a map is an "invalid type" with this name, as with the derive.
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "internally tagged enum {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object, A::Error> {
        let object = Object::deserialize(MapAccessDeserializer::new(map))?;
        tag::<T>(&object).map_err(A::Error::custom)?;
        Ok(object)
    }
}

/// The tag of a [`Tagged`] object, one of its variants.
fn tag<T: Tagged>(object: &Object) -> Result<&str, Error> {
    let tag = match object.get(T::TAG) {
        None => return Err(Error::missing_field(T::TAG)),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(Error::invalid_type(
                unexpected(other),
                &"variant identifier",
            ));
        }
    };
    if !T::VARIANTS.contains(&tag) {
        return Err(Error::unknown_variant(tag, T::VARIANTS));
    }
    Ok(tag)
}

/// The error for a tag its type's `from_object` does not handle. [`tag`] already refused names
/// outside `VARIANTS`, so this is only reached when `VARIANTS` and the `match` in `from_object`
/// disagree: an error then, rather than the object read as some other variant.
pub(crate) fn unknown_variant<T: Tagged>(tag: &str) -> Error {
    Error::unknown_variant(tag, T::VARIANTS)
}

/// A required field.
pub(crate) fn field<T: DeserializeOwned>(object: &Object, name: &'static str) -> Result<T, Error> {
    match object.get(name) {
        Some(value) => T::deserialize(value),
        None => Err(Error::missing_field(name)),
    }
}

/// A `#[serde(default)]` field.
pub(crate) fn field_or_default<T: DeserializeOwned + Default>(
    object: &Object,
    name: &'static str,
) -> Result<T, Error> {
    match object.get(name) {
        Some(value) => T::deserialize(value),
        None => Ok(T::default()),
    }
}

/// What serde says a value is in an "invalid type" message.
pub(crate) fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (_, Some(i), _) => Unexpected::Signed(i),
            (_, _, Some(f)) => Unexpected::Float(f),
            _ => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use crate::{schedule::Schedule, segment::Segment, stats::DayStats};

    /// The messages serde's derive gave for these inputs (checked against it when the
    /// deserialisers were written by hand). As with the derive, `serde_json` gives the position
    /// only of an error in the outermost tagged object.
    #[test]
    fn errors_are_the_derives() {
        let segment = |json: &str| {
            serde_json::from_str::<Segment>(json)
                .unwrap_err()
                .to_string()
        };
        let group = |rule: &str| {
            segment(&format!(
                r#"{{"kind":"group","combine":"all_of","rules":[{rule}]}}"#
            ))
        };
        let rule = |extra: &str| {
            group(&format!(
                r#"{{"kind":"event","did":true,"event":"e",{extra}}}"#
            ))
        };
        let property = |condition: &str| {
            group(&format!(
                r#"{{"kind":"user_property","property":"p","condition":{condition}}}"#
            ))
        };
        assert_eq!(segment("{}"), "missing field `kind` at line 1 column 2");
        assert_eq!(
            segment("1"),
            "invalid type: integer `1`, expected internally tagged enum Segment at line 1 column 1"
        );
        assert_eq!(
            group(r#"{"kind":"zzz"}"#),
            "unknown variant `zzz`, expected one of `group`, `event`, `user_property`, `saved_segment`"
        );
        assert_eq!(
            rule(r#""window":"ever""#),
            r#"invalid type: string "ever", expected internally tagged enum Window"#
        );
        assert_eq!(
            rule(r#""window":{"kind":"ever"},"aggregate":{"op":"at_least","value":1}"#),
            "missing field `of`"
        );
        assert_eq!(
            rule(
                r#""window":{"kind":"ever"},"aggregate":{"of":"count","op":"at_least","value":"1"}"#
            ),
            r#"invalid type: string "1", expected f64"#
        );
        assert_eq!(
            property(r#"{"type":"text","op":"equals"}"#),
            "missing field `value`"
        );
        assert_eq!(
            property(r#"{"type":"colour","op":"equals"}"#),
            "unknown variant `colour`, expected one of `text`, `number`, `boolean`, `date`, `list`"
        );

        let schedule = |json: &str| {
            serde_json::from_str::<Schedule>(json)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            schedule(r#"{"time_zone":"UTC"}"#),
            "missing field `kind` at line 1 column 19"
        );
        assert!(
            schedule(r#"{"time_zone":"UTC","kind":"recurring","repeat":{"every":"days","interval":1},"time":"09:00","start_date":"2027-03-03","end":{"kind":"someday"}}"#)
                .starts_with("unknown variant `someday`, expected one of `never`, `on_date`, `after_runs` at line 1")
        );
        assert!(
            schedule(r#"{"time_zone":"UTC","kind":"recurring","repeat":{"every":"months","interval":1,"days":[300]},"time":"09:00","start_date":"2027-03-03"}"#)
                .starts_with("invalid value: integer `300`, expected u8 at line 1")
        );

        let day =
            serde_json::from_str::<DayStats>(r#"{"day":"2024-01-01","impressions":1,"clicks":2}"#);
        assert_eq!(
            day.unwrap_err().to_string(),
            "missing field `spend_minor` at line 1 column 47"
        );
    }
}
