//! What DynamoDB charges for a request: every call asks for its consumed capacity
//! (`ReturnConsumedCapacity=TOTAL`), and the units are summed per invocation, logged on the
//! invocation's log line and measured by `make bench`. Lambda hands a process one event at a time,
//! so process-wide counters, reset when an event starts, are that event's.
//!
//! Only successful responses carry their units: a refused conditional write, a cancelled
//! transaction or a throttled attempt is charged by DynamoDB but not counted here, so the figures
//! are a floor.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    scan::{ScanInput, ScanOutput},
    transact_get_items::{TransactGetItemsInput, TransactGetItemsOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

/// Units are kept in thousandths: DynamoDB reports halves (eventually consistent reads) and
/// doubles (transactions), never finer.
static READ_MILLIUNITS: AtomicU64 = AtomicU64::new(0);
static WRITE_MILLIUNITS: AtomicU64 = AtomicU64::new(0);

/// Read and write capacity units consumed since the last [`reset`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Consumed {
    pub read_units: f64,
    pub write_units: f64,
}

pub fn reset() {
    READ_MILLIUNITS.store(0, Ordering::Relaxed);
    WRITE_MILLIUNITS.store(0, Ordering::Relaxed);
}

pub fn consumed() -> Consumed {
    Consumed {
        read_units: READ_MILLIUNITS.load(Ordering::Relaxed) as f64 / 1000.0,
        write_units: WRITE_MILLIUNITS.load(Ordering::Relaxed) as f64 / 1000.0,
    }
}

/// Adds what DynamoDB reports. A transaction can report its read and write units apart (an
/// idempotent replay of a TransactWriteItems is charged as reads); otherwise all units go to the
/// operation's kind, `counter`.
fn add(counter: &AtomicU64, capacities: &[ConsumedCapacity]) {
    for capacity in capacities {
        let (read, write) = (capacity.read_capacity_units(), capacity.write_capacity_units());
        if read.is_some() || write.is_some() {
            add_units(&READ_MILLIUNITS, read.unwrap_or_default());
            add_units(&WRITE_MILLIUNITS, write.unwrap_or_default());
        } else {
            add_units(counter, capacity.capacity_units().unwrap_or_default());
        }
    }
}

fn add_units(counter: &AtomicU64, units: f64) {
    counter.fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
}

/// A DynamoDB client for `aws` that meters what it consumes. Every function builds its table
/// client here, once per cold start.
pub fn metered_client(aws: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(aws).interceptor(Meter).build(),
    )
}

#[derive(Debug)]
struct Meter;

/// Asks for the consumed capacity on every operation that can report it, unless the caller
/// already chose.
macro_rules! ask {
    ($input:expr, $($kind:ty),+) => {
        $(if let Some(input) = $input.downcast_mut::<$kind>() {
            input.return_consumed_capacity.get_or_insert(ReturnConsumedCapacity::Total);
            return;
        })+
    };
}

/// Adds what an output reports to the read or the write counter.
macro_rules! count {
    ($output:expr, $counter:expr, $($kind:ty => $get:expr),+) => {
        $(if let Some(output) = $output.downcast_ref::<$kind>() {
            let capacities: Vec<ConsumedCapacity> = $get(output);
            add($counter, &capacities);
            return;
        })+
    };
}

impl Meter {
    fn ask(input: &mut aws_smithy_runtime_api::client::interceptors::context::Input) {
        ask!(
            input,
            GetItemInput,
            QueryInput,
            ScanInput,
            BatchGetItemInput,
            TransactGetItemsInput,
            PutItemInput,
            UpdateItemInput,
            DeleteItemInput,
            BatchWriteItemInput,
            TransactWriteItemsInput
        );
    }

    fn count(output: &aws_smithy_runtime_api::client::interceptors::context::Output) {
        let one = |c: Option<&ConsumedCapacity>| c.cloned().into_iter().collect::<Vec<_>>();
        count!(output, &READ_MILLIUNITS,
            GetItemOutput => |o: &GetItemOutput| one(o.consumed_capacity()),
            QueryOutput => |o: &QueryOutput| one(o.consumed_capacity()),
            ScanOutput => |o: &ScanOutput| one(o.consumed_capacity()),
            BatchGetItemOutput => |o: &BatchGetItemOutput| o.consumed_capacity().to_vec(),
            TransactGetItemsOutput => |o: &TransactGetItemsOutput| o.consumed_capacity().to_vec()
        );
        count!(output, &WRITE_MILLIUNITS,
            PutItemOutput => |o: &PutItemOutput| one(o.consumed_capacity()),
            UpdateItemOutput => |o: &UpdateItemOutput| one(o.consumed_capacity()),
            DeleteItemOutput => |o: &DeleteItemOutput| one(o.consumed_capacity()),
            BatchWriteItemOutput => |o: &BatchWriteItemOutput| o.consumed_capacity().to_vec(),
            TransactWriteItemsOutput => |o: &TransactWriteItemsOutput| o.consumed_capacity().to_vec()
        );
    }
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "ConsumedCapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        Self::ask(context.input_mut());
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Ok(output) = context.output_or_error() {
            Self::count(output);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_go_to_reads_or_writes_as_dynamodb_reports_them() {
        reset();
        let total = ConsumedCapacity::builder().capacity_units(4.0).build();
        add(&WRITE_MILLIUNITS, &[total]);
        let split = ConsumedCapacity::builder().capacity_units(2.0).read_capacity_units(2.0).build();
        add(&WRITE_MILLIUNITS, &[split]);
        add(&READ_MILLIUNITS, &[ConsumedCapacity::builder().capacity_units(0.5).build()]);
        assert_eq!(consumed(), Consumed { read_units: 2.5, write_units: 4.0 });
        reset();
        assert_eq!(consumed(), Consumed::default());
    }
}
