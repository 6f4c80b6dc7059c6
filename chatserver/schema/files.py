"""Image uploads: presigned PUT targets for signed-in users."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from chatserver.errors import ValidationFailed
from chatserver.schema.common import identity, services
from chatserver.schema.directives import signed_in
from chatserver.schema.scalars import AWSURL, AWSDateTime


@strawberry.input
class UploadInput:
    filename: str
    content_type: str
    size: int


@strawberry.type(directives=signed_in())
class UploadTarget:
    key: str
    image_id: str
    upload_url: AWSURL
    expires_at: AWSDateTime


@strawberry.type
class FileMutations:
    @strawberry.mutation(directives=signed_in())
    async def create_upload_url(self, info: Info, input: UploadInput) -> UploadTarget | None:
        files = services(info).files
        if files is None:
            raise ValidationFailed("File uploads are not available on this server.")
        target = await files.create_upload(
            owner=identity(info).username,
            filename=input.filename,
            content_type=input.content_type,
            size=input.size,
        )
        return UploadTarget(
            key=target.key,
            image_id=target.image_id,
            upload_url=AWSURL(target.upload_url),
            expires_at=AWSDateTime(target.expires_at),
        )
