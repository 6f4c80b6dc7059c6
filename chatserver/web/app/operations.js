// The GraphQL documents of the app (the chat seed's shapes, plus imageUrl for showing pictures).
const MESSAGE = `id content { text imageId imageUrl } owner createdAt updatedAt roomId`;

export const LIST_ROOMS = `query ListRooms($limit: Int) { listRooms(limit: $limit) { items { id name owner createdAt } nextToken } }`;
export const CREATE_ROOM = `mutation CreateRoom($input: RoomInput!) { createRoom(input: $input) { id name owner createdAt } }`;
export const ON_CREATE_ROOM = `subscription OnCreateRoom { onCreateRoom { id name owner createdAt } }`;

export const LIST_MESSAGES = `query ListMessagesForRoom($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int) {
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit) { items { ${MESSAGE} } nextToken } }`;
export const GET_MESSAGE = `query GetMessage($id: ID!) { getMessage(id: $id) { ${MESSAGE} } }`;
export const CREATE_MESSAGE = `mutation CreateMessage($input: MessageInput!) { createMessage(input: $input) { ${MESSAGE} } }`;
export const UPDATE_MESSAGE = `mutation UpdateMessage($input: MessageInput!) { updateMessage(input: $input) { ${MESSAGE} } }`;
export const ON_CREATE_MESSAGE = `subscription OnCreateMessageByRoomId($roomId: ID) { onCreateMessageByRoomId(roomId: $roomId) { ${MESSAGE} } }`;
export const ON_UPDATE_MESSAGE = `subscription OnUpdateMessage($roomId: ID) { onUpdateMessage(roomId: $roomId) { ${MESSAGE} } }`;

export const GET_USER = `query GetUser($id: ID!) { getUser(id: $id) { id username } }`;

export const CREATE_UPLOAD_URL = `mutation CreateUploadUrl($input: UploadInput!) { createUploadUrl(input: $input) { key imageId uploadUrl expiresAt } }`;

// The walkie-talkie seed's documents: subscribers receive what the mutation selected, so it selects `data`.
export const CREATE_AUDIO_SEGMENT = `mutation CreateAudioSegment($roomId: ID!, $data: String!) {
  createAudioSegment(roomId: $roomId, data: $data) { data roomId timestamp userId } }`;
export const ON_CREATE_AUDIO_SEGMENT = `subscription OnCreateAudioSegment($roomId: ID!) {
  onCreateAudioSegment(roomId: $roomId) { roomId data timestamp userId } }`;
