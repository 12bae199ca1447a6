"""The site the dashboard shows (name, map centre, time zone). Public: the login screen shows the name."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ioc.api.deps import Ctx
from ioc.config.models import Location, SiteConfig

router = APIRouter(prefix="/api", tags=["site"])


class Site(BaseModel):
    name: str
    map_center: Location | None
    timezone: str


@router.get("/site")
def site(ctx: Ctx) -> Site:
    """``map_center`` is the configured centre, else the centroid of the cameras with a location."""
    config = ctx.live.config
    if config is None:
        return Site(name="IOC", map_center=None, timezone=SiteConfig().timezone)
    center = config.site.map_center
    located = [c.location for c in config.cameras if c.location is not None]
    if center is None and located:
        center = Location(
            lat=sum(p.lat for p in located) / len(located), lon=sum(p.lon for p in located) / len(located)
        )
    return Site(name=config.site.name, map_center=center, timezone=config.site.timezone)
