"""Send how a run ended: publish it to the outcomes topic, then post it to the route's webhook."""

from vertex_trigger.config.model import Route
from vertex_trigger.launch.services import Services
from vertex_trigger.reporting.run_end import RunEnd


def report(services: Services, route: Route, ended: RunEnd) -> str:
    """Publish the run's end, then post it to the route's webhook; say what was sent where.

    Publish first: should the webhook fail, the redelivery publishes again under the same
    ``outcome_id``, which consumers drop; the other order would repeat a human-read chat line.
    """
    sent = [str(ended.state)]
    topic = services.config.outcomes_topic
    if topic and services.publisher is not None:
        message_id = services.publisher.publish(topic, ended.message_data(), ended.attributes())
        sent.append(f"published message {message_id} to {topic}")
    if route.notify and ended.state in route.notify.on and services.webhooks is not None:
        services.webhooks.post(route.name, ended.webhook_text())
        sent.append("posted to the route's webhook")
    if ended.note:
        sent.append(ended.note)
    return "; ".join(sent)
